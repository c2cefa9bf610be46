"""Operations of one-shot mode: list, inject, exec, stack (and doctor, from doctor.py)."""

import sys

from .contract import DEFAULT_SAMPLE_SECONDS
from .doctor import op_doctor
from .events import AgentError
from .injection import raise_payload_error, run_payload
from .listing import list_processes
from .python_facts import version_tuple
from .sockets import debugpy_listener_of
from .stacks import read_stacks
from .targets import inspect_target

#: with waitForClient the target's main thread waits for a debugger at most this long
WAIT_FOR_CLIENT_SECONDS = 300
#: stdout/stderr of exec'd code are cut beyond this many characters each
MAX_OUTPUT_CHARS = 1 << 20


def require_int(request, name, minimum=None, maximum=None):
    value = request.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AgentError('internal', 'request field %r must be an integer' % name)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise AgentError('internal', 'request field %r out of range: %d' % (name, value))
    return value


def timeout_of(request):
    value = request.get('timeoutSeconds', 30)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise AgentError('internal', "request field 'timeoutSeconds' must be a positive number")
    return float(value)


def op_list(request):
    sample = request.get('sampleSeconds', DEFAULT_SAMPLE_SECONDS)
    if isinstance(sample, bool) or not isinstance(sample, (int, float)) or not 0 <= sample <= 10:
        raise AgentError('internal', "request field 'sampleSeconds' must be between 0 and 10")
    return list_processes(float(sample))


def op_inject(request):
    pid = require_int(request, 'pid', 1)
    port = require_int(request, 'port', 1, 65535)
    timeout = timeout_of(request)
    target = inspect_target(pid)
    live_port, known = debugpy_listener_of(pid)
    config = {'mode': 'inject', 'port': port, 'waitForClient': bool(request.get('waitForClient')),
              'waitForClientSeconds': WAIT_FOR_CLIENT_SECONDS, 'livePort': live_port,
              'listenerStateKnown': known}
    message = run_payload(target, config, timeout, request.get('debugpyZipBase64') or None)
    if message.get('status') != 'listening':
        raise_payload_error(target, message)
    port = message.get('port')
    if port is None:  # debugpy.listen() was called by someone else: ask /proc for the port
        port = debugpy_listener_of(pid)[0]
        if port is None:
            raise AgentError('injected-code-failed', 'debugpy.listen() was already called in process %d but '
                                                     'no listening debugpy adapter serves it' % pid)
    return {
        'op': 'inject', 'pid': pid, 'host': message.get('host') or '127.0.0.1', 'port': int(port),
        'reused': bool(message.get('reused')), 'debugpyVersion': message.get('debugpyVersion') or '?',
        'cwd': message.get('cwd') or target.facts.cwd or '', 'mainFile': message.get('mainFile'),
        'sysPath0': message.get('sysPath0'), 'underSitePackages': bool(message.get('underSitePackages')),
        'injector': target.injector,
    }


def check_syntax(code, target):
    """Reject code that does not compile before touching the target (when our parser is as new)."""
    if tuple(sys.version_info[:2]) < (version_tuple(target.version) or (99,))[:2]:
        return
    try:
        compile(code, '<wand-exec>', 'exec', dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        import traceback
        text = ''.join(traceback.format_exception_only(type(exc), exc)).rstrip()
        raise AgentError('injected-code-failed', 'the code does not compile, nothing was run:\n' + text)


def op_exec(request):
    pid = require_int(request, 'pid', 1)
    code = request.get('code')
    if not isinstance(code, str):
        raise AgentError('internal', "request field 'code' must be a string")
    module = request.get('module')
    if module is not None and not isinstance(module, str):
        raise AgentError('internal', "request field 'module' must be a string")
    timeout = timeout_of(request)
    target = inspect_target(pid)
    check_syntax(code, target)
    config = {'mode': 'exec', 'code': code, 'module': module or None, 'maxOutputChars': MAX_OUTPUT_CHARS}
    message = run_payload(target, config, timeout)
    if message.get('status') != 'exec-done':
        raise_payload_error(target, message)
    return {'op': 'exec', 'pid': pid, 'stdout': message.get('stdout') or '',
            'stderr': message.get('stderr') or '', 'traceback': message.get('traceback')}


def op_stack(request):
    pid = require_int(request, 'pid', 1)
    target = inspect_target(pid, need_remote_exec=False)
    if target.injector != 'remote_exec':
        raise AgentError('unsupported-python', 'process %d runs Python %s: reading its stacks without running code '
                         'in it needs Python 3.14 (_remote_debugging); kubectl wand exec can print them from inside '
                         '(it runs code in the process)' % (pid, target.version))
    return {'op': 'stack', 'pid': pid, 'threads': read_stacks(target)}


OPERATIONS = {'list': op_list, 'inject': op_inject, 'exec': op_exec, 'stack': op_stack, 'doctor': op_doctor}
