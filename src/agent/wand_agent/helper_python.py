"""Helper processes run with the target's own interpreter (version probe, injector, stack reader)."""

import os
import sys

from .python_facts import DISABLE_ENV, version_tuple

PROBE_TIMEOUT_SECONDS = 2.0
HELPER_TIMEOUT_SECONDS = 15.0


PROBE_SOURCE = (
    "import sys;print('%d.%d.%d'%sys.version_info[:3]);"
    "f=getattr(sys,'is_remote_debug_enabled',None);print(f() if f else '')"
)

INJECTOR_SOURCE = r'''
import sys
try:
    sys.remote_exec(int(sys.argv[1]), sys.argv[2])
except BaseException as exc:
    chain = []
    while exc is not None and len(chain) < 5:
        chain.append('%s: %s' % (type(exc).__name__, exc))
        exc = exc.__cause__ or exc.__context__
    sys.stderr.write(' <- '.join(chain) + '\n')
    sys.exit(1)
'''

STACK_SOURCE = r'''
import json, sys
import _remote_debugging

def plain(value):
    fields = getattr(type(value), '__match_args__', None) or getattr(value, '_fields', None)
    if fields:
        return dict((name, plain(getattr(value, name, None))) for name in fields)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)

pid = int(sys.argv[1])
error = None
for attempt in range(3):
    try:
        threads = _remote_debugging.RemoteUnwinder(pid, all_threads=True).get_stack_trace()
        try:
            main = _remote_debugging.RemoteUnwinder(pid).get_stack_trace()
        except Exception:
            main = None
        json.dump({'threads': plain(threads), 'main': plain(main)}, sys.stdout)
        sys.exit(0)
    except Exception as exc:
        error = exc
chain = []
while error is not None and len(chain) < 5:
    chain.append('%s: %s' % (type(error).__name__, error))
    error = error.__cause__ or error.__context__
sys.stderr.write(' <- '.join(chain) + '\n')
sys.exit(1)
'''


def helper_env():
    """The agent's environment minus the variable that would make the helper refuse to work."""
    env = dict(os.environ)
    env.pop(DISABLE_ENV, None)
    return env


def start_target_python(exe_path, source, args=()):
    import subprocess
    return subprocess.Popen(
        [exe_path, '-S', '-c', source] + [str(a) for a in args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=helper_env(), close_fds=True)


def finish_process(proc, timeout):
    """(returncode, stdout, stderr); returncode None when it had to be killed."""
    import subprocess
    try:
        out, err = proc.communicate(timeout=max(timeout, 0.01))
        return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None, '', 'timed out'


def parse_probe_output(out):
    """(version, remote debug supported by the build or None when unknown)."""
    lines = out.splitlines()
    version = lines[0].strip() if lines and version_tuple(lines[0].strip()) else None
    supported = {'True': True, 'False': False}.get(lines[1].strip()) if len(lines) > 1 else None
    return version, supported


def file_identity(path):
    """(st_dev, st_ino) of the file at `path` (symlinks followed), or None."""
    try:
        st = os.stat(path)
        return st.st_dev, st.st_ino
    except OSError:
        return None


_own_interpreter = []  # [(identity, (version, supported)) or None] once computed


def own_interpreter():
    """(identity of the agent's interpreter binary, its (version, supported)), or None.

    A process running the very binary the agent runs needs no version probe: its answers are ours.
    But sys.is_remote_debug_enabled() is also False when only this process opted out (its
    environment or -X option), so only True settles `supported`; then the probe asks as before.
    """
    if not _own_interpreter:
        identity = file_identity('/proc/self/exe')
        enabled = getattr(sys, 'is_remote_debug_enabled', None)
        if identity is None or (enabled is not None and not enabled()):
            _own_interpreter.append(None)
        else:
            _own_interpreter.append((identity, (python_version(), True if enabled else None)))
    return _own_interpreter[0]


def own_answers(identity):
    """(version, supported) without a probe when `identity` is the agent's own interpreter, else None."""
    own = own_interpreter()
    return own[1] if own is not None and identity is not None and identity == own[0] else None


def probe_python(exe_path, timeout=PROBE_TIMEOUT_SECONDS):
    known = own_answers(file_identity(exe_path))
    if known is not None:
        return known
    try:
        proc = start_target_python(exe_path, PROBE_SOURCE)
    except OSError:
        return None, None
    code, out, _ = finish_process(proc, timeout)
    return parse_probe_output(out) if code == 0 else (None, None)


def python_version():
    return '%d.%d.%d' % tuple(sys.version_info[:3])
