"""doctor (kubectl wand doctor): each fact that decides whether a process can be debugged, checked
on its own (list stops at the first reason). Nothing runs in the target: debugpy is looked for
by the target's own interpreter in a child process with the target's environment and cwd."""

import json
import os

from .events import AgentError
from .files import make_private_dir, remove_quietly
from .helper_python import HELPER_TIMEOUT_SECONDS, finish_process, helper_env, probe_python
from .listing import ProcessFacts
from .procfs import list_pids, read_cmdline, read_stat
from .python_facts import DISABLE_ENV, injector_for, ptrace_refusal, remote_debug_disabled
from .sockets import find_debugpy_ports
from .targets import Target
from .trace_probe import probe_trace
from .tracing import agent_capabilities, public_capabilities


DEBUGPY_PROBE_SOURCE = r"""
import json, os
try:
    import debugpy
    print(json.dumps({'version': str(getattr(debugpy, '__version__', '?')),
                      'path': os.path.dirname(os.path.abspath(debugpy.__file__))}))
except Exception as exc:
    print(json.dumps({'error': '%s: %s' % (type(exc).__name__, exc)}))
"""


def doctor_interpreter(facts):
    """The target's argv[0] when it is the very binary it runs (a venv's python finds the venv's
    packages only when started by that name), else /proc/PID/exe."""
    exe = '/proc/%d/exe' % facts.pid
    name = facts.argv[0] if facts.argv else ''
    if '/' in name:
        candidates = [os.path.join(facts.cwd or '/', name)]
    else:
        path = (facts.environ or {}).get('PATH', '')
        candidates = [os.path.join(d, name) for d in path.split(':') if d and name]
    try:
        wanted = os.stat(exe)
    except OSError:
        return exe
    for candidate in candidates:
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (wanted.st_dev, wanted.st_ino):
            return candidate
    return exe


def doctor_debugpy(facts):
    """{version, path} of the debugpy the target would import, or {error}."""
    env = dict(facts.environ) if facts.environ is not None else helper_env()
    env.pop(DISABLE_ENV, None)
    cwd = facts.cwd if facts.cwd and os.path.isdir(facts.cwd) else '/'
    import subprocess
    try:
        proc = subprocess.Popen([doctor_interpreter(facts), '-c', DEBUGPY_PROBE_SOURCE],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=cwd, close_fds=True)
    except OSError as exc:
        return {'version': None, 'path': None, 'error': 'could not run its interpreter: %s' % exc}
    code, out, err = finish_process(proc, HELPER_TIMEOUT_SECONDS)
    try:
        found = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {'version': None, 'path': None, 'error': (err.strip().splitlines() or ['no answer'])[-1]}
    return {'version': found.get('version'), 'path': found.get('path'), 'error': found.get('error')}


def doctor_writable_dir(target):
    """{path} of a directory the injected script could use (created, then removed), or {error}."""
    try:
        path = make_private_dir(target)
    except AgentError as exc:
        return {'path': None, 'error': exc.message}
    except OSError as exc:
        return {'path': None, 'error': str(exc)}
    remove_quietly(path, is_dir=True)
    return {'path': os.path.dirname(path), 'error': None}


def doctor_process(pid, caps, debugpy_ports):
    stat = read_stat(pid) if pid > 0 else None
    found = {'pid': pid, 'exists': False, 'isPython': False, 'python': None, 'remoteDebugBuild': None,
             'remoteDebugDisabled': None, 'remoteDebugDisabledCode': None, 'traceDenied': None,
             'traceDeniedCode': None, 'debugpy': None, 'writableDir': None,
             'debugpyPort': debugpy_ports.get(pid), 'injector': None, 'injectorRefused': None}
    if stat is None or pid == os.getpid():
        return found
    facts = ProcessFacts(pid, stat)
    denial = probe_trace(pid, facts.status, facts.environ is not None, caps) or (None, None)
    found.update(exists=True, isPython=facts.is_python, traceDeniedCode=denial[0], traceDenied=denial[1])
    if facts.is_python:
        version, supported = probe_python('/proc/%d/exe' % pid)
        injector = injector_for(version)
        flags = facts.flags if injector == 'remote_exec' else set()  # before 3.14 -E/-I do not matter
        disabled = remote_debug_disabled(facts.environ, flags, facts.xoptions) or (None, None)
        refused = ptrace_refusal(facts.environ, facts.xoptions) if injector == 'ptrace' else None
        found.update(injector=injector, injectorRefused=refused[1] if refused and refused[0] != 'remote-debug-disabled'
                     else None)
        found.update(python=version, remoteDebugBuild=supported,
                     remoteDebugDisabledCode=disabled[0], remoteDebugDisabled=disabled[1],
                     debugpy=doctor_debugpy(facts), writableDir=doctor_writable_dir(Target(pid, facts, version)))
    return found


def op_doctor(request):
    pids = request.get('pids')
    if not isinstance(pids, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in pids):
        raise AgentError('internal', "request field 'pids' must be a list of integers")
    caps = agent_capabilities()
    ports = find_debugpy_ports(dict((p, read_cmdline(p)) for p in list_pids()))
    return {'op': 'doctor', 'capabilities': public_capabilities(caps),
            'processes': [doctor_process(pid, caps, ports) for pid in pids]}

