"""Operations of one-shot mode: list, inject, close, exec, stack (and doctor, from doctor.py)."""

import sys
import time

from .closing import (CLOSE_ON_EOF_SECONDS, agent_identity, injected_pids, kill_adapters, note_closed,
                      note_injected)
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
    session, agent_pid, agent_start = agent_identity()
    config = {'mode': 'inject', 'port': port, 'waitForClient': bool(request.get('waitForClient')),
              'waitForClientSeconds': WAIT_FOR_CLIENT_SECONDS, 'livePort': live_port,
              'listenerStateKnown': known, 'session': session, 'agentPid': agent_pid,
              'agentStart': agent_start}
    message = run_payload(target, config, timeout, request.get('debugpyZipBase64') or None)
    if message.get('status') != 'listening':
        raise_payload_error(target, message)
    note_injected(pid)
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
        'owner': message.get('owner') if message.get('owner') in ('wand', 'app') else 'wand',
        'otherSessions': int(message.get('otherSessions') or 0),
        'injector': target.injector,
    }


#: the report fields of a close that reach the CLI (listener.leave() says more, for the tests)
CLOSE_FIELDS = ('closed', 'reason', 'port', 'otherSessions', 'resumedThreads', 'fallback', 'adapter',
                'seconds', 'debugpyVersion', 'error', 'stillListening')


def op_close(request):
    """This session leaves process `pid`; its debugpy listener closes if no other session holds it
    and keepListening is not asked (see in_target/listener.py). If the main thread never runs the
    close, the adapter is ended from here: no editor can attach, but tracing stays until the next
    injection."""
    pid = require_int(request, 'pid', 1)
    timeout = timeout_of(request)
    target = inspect_target(pid)
    port_before = debugpy_listener_of(pid)[0]
    session = agent_identity()[0]
    config = {'mode': 'close', 'session': session, 'keepListening': bool(request.get('keepListening'))}
    try:
        message = close_once_listening(target, config, timeout)
    except AgentError as exc:
        if exc.code != 'timeout' or port_before is None or request.get('keepListening'):
            raise
        note_closed(pid)
        return {'op': 'close', 'pid': pid, 'closed': False, 'reason': 'adapter-killed', 'port': port_before,
                'adapter': kill_adapters(port_before),
                'fallback': '%s; its debugpy adapter was ended instead: no editor can attach, but the '
                            'debugger stays loaded (tracing on) until the next kubectl wand debug' % exc.message}
    if message.get('status') != 'closed':
        raise_payload_error(target, message)
    note_closed(pid)
    result = dict((k, message[k]) for k in CLOSE_FIELDS if message.get(k) is not None)
    result.update(op='close', pid=pid, closed=bool(message.get('closed')), reason=message.get('reason') or 'closed')
    if result['closed'] and result['reason'] not in ('not-listening',):
        result['reason'] = 'closed'
    return result


#: how soon a close asks again while the injection's debugpy.listen() has not returned
OPENING_RETRY_SECONDS = 0.1


def close_once_listening(target, config, timeout):
    """The close payload's report; run again while the target is still inside the debugpy.listen()
    of our injection (reason 'opening', see in_target/listener.py leave())."""
    deadline = time.monotonic() + timeout
    while True:
        message = run_payload(target, config, max(0.5, deadline - time.monotonic()))
        if message.get('reason') != 'opening' or time.monotonic() >= deadline:
            return message
        time.sleep(OPENING_RETRY_SECONDS)


def close_all_injected(seconds=CLOSE_ON_EOF_SECONDS):
    """At the end of a session's stdin (CLI killed, exec dropped): close every process this agent
    injected and the CLI did not close, in parallel, within about `seconds`. Nobody reads the
    outcome; the target forgets this session anyway once this agent has exited."""
    import threading
    pids = injected_pids()

    def close(pid):
        try:
            result = op_close({'pid': pid, 'timeoutSeconds': seconds})
            outcome = result.get('reason') or 'closed'
        except Exception as exc:
            outcome = 'not closed: %s' % (getattr(exc, 'message', None) or exc)
        # a debugger container's log (kubectl logs -c wand-debug-…) keeps what happened
        log_line('kubectl-wand agent: input ended: process %d: %s' % (pid, outcome))

    threads = [threading.Thread(target=close, args=(pid,), name='wand-close-%d' % pid) for pid in pids]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join(seconds + 1.0)


def log_line(text):
    """One line on stderr, if anyone still reads it (an exec's client may be gone)."""
    try:
        sys.stderr.write(text + '\n')
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


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


OPERATIONS = {'list': op_list, 'inject': op_inject, 'close': op_close, 'exec': op_exec, 'stack': op_stack,
              'doctor': op_doctor}
