"""kubectl-wand in-pod agent: lists processes, injects debugpy, runs code and reads stacks.

Protocol (see src/agent/contract.ts for the exact types)
--------------------------------------------------------
The CLI runs ``kubectl exec -i POD -c C -- python3 -`` and writes to stdin the bytes of this file
followed by one line ``main("<base64 of a JSON AgentRequest>")``, then closes stdin (Python reads
the whole program before running it). The agent answers on stdout with one JSON object per line
(AgentEvent), flushed one by one; the last line is always ``{"event": "result", ...}`` or
``{"event": "error", ...}``. The exit status is 0 after a result and 1 after an error.
Diagnostics never go to stdout.

Requests: ``list`` (read /proc), ``inject`` (make debugpy listen inside a process), ``exec`` (run
code inside a process and return its output), ``stack`` (read every thread's stack without running
anything in the process).

Session mode (``kubectl wand debug``: one exec for the whole debug session)
--------------------------------------------------------------------------
The CLI runs ``python3 -c SESSION_BOOTSTRAP`` (contract.ts), which reads one line of stdin (this
file in base64), runs it and calls ``serve()``. Then every stdin line is one JSON request
``{"id": N, "op": ...}`` (N >= 1) and every stdout line one event carrying the ``id`` of the
request it belongs to; the first line is ``{"event": "ready", "id": 0, ...}``. Requests run
concurrently, each in its own thread, and end with a ``result`` or ``error`` event as in one-shot
mode. An unreadable request line gets an ``error`` with ``"id": null``.

``watch`` (pids) replaces the set of watched processes. While nothing exits the agent only waits
on pidfds (Python < 3.9 or no pidfd_open: it looks the pids up in /proc every 0.5 s). When a
watched process exits it emits ``exited``, then follows the process table (every 50 ms, for 15 s
after the last exit, or until the next ``watch``) and emits ``processes`` (full records, no CPU
sampling) whenever the set of (pid, argv) changed, the first time at once. Reloaders and
supervisors (uvicorn, werkzeug, Django, gunicorn) replace a worker only after it exited, so a new
child that appears without any exit is not reported.

End of stdin, SIGTERM or SIGHUP end the session: the files of requests in flight are removed (a
payload still pending in a target stays, as below) and the agent exits with status 0.

How code gets into the target (inject and exec)
-----------------------------------------------
1. A private directory (mkdtemp ``wand-*``) receives the injected script ``payload`` (no ``.py``
   suffix, so reloaders watching ``*.py`` ignore it) and a Unix socket ``status``.
2. ``sys.remote_exec(PID, PAYLOAD)`` is called by the agent itself when the target runs the very
   binary the agent runs (and the agent may use remote debugging), else by
   ``/proc/PID/exe -S -c INJECTOR_SOURCE PID PAYLOAD``: the target's own interpreter, so versions
   and builds always match.
   Then, if the target listens on TCP, one connection to it (closed at once, no bytes) wakes an
   idle event loop or select() so that the next step happens now, not at its poll timeout.
3. When the target's main thread next runs bytecode it executes the payload, which connects to
   the socket, says ``started``, waits for the agent's ``go``, does its work and reports one JSON
   line. If the agent is gone (connect fails) the payload does nothing but delete its own files.
   If the main thread is inside an import then, the payload imports nothing: a thread waits for
   the import to end and queues the payload for the main thread again.
4. Meanwhile the agent emits a ``waiting`` event every second (with what the main thread is
   blocked in) until ``started``, queues the payload again each time (a call queued while the
   target's interpreter was still starting can be lost), and gives up with error ``timeout`` and
   the main thread's stack.

A socket rather than a FIFO: a payload writing to a FIFO whose reader died gets SIGPIPE, which
kills a target that reset SIGPIPE to SIG_DFL; ``send(..., MSG_NOSIGNAL)`` cannot. The socket also
gives end-of-file and a way to answer ``go``, so code never runs unless the agent still waits.

Behaviour worth knowing
-----------------------
* On timeout or cancel, a payload the target has not run yet is replaced in the target by
  /dev/null (a newer sys.remote_exec overwrites the pending one), then removed: deleting a script
  that is still pending would make the target log "Can't open debugger script" when it wakes.
* inject reuses a debugpy listener only if /proc shows its adapter alive and linked to the target.
  debugpy's adapter exits when its client sends "disconnect"; the next inject then listens again
  (after pydevd has disposed of the old session), which debugpy itself would refuse.
* waitForClient: after reporting ``listening`` the payload holds the target's main thread in
  debugpy.wait_for_client(), at most WAIT_FOR_CLIENT_SECONDS (a timer cancels it), so a CLI that
  dies never freezes the application for good.
* debugpyZipBase64 is extracted next to the private directory as ``wand-debugpy-<sha256[:16]>``
  (world-readable, owned by the agent, reused while intact) and put first on the target's sys.path
  unless debugpy is already imported there. It stays: the target imports from it while debugging.
* exec runs the code on the main thread with sys.stdout/sys.stderr swapped for buffers (output of
  other threads during that time lands in the buffers too) and, like the REPL, prints the repr of
  a final expression. Its syntax is checked here first when this interpreter is at least as new
  as the target's.

Runs on Python 3.8+ with the standard library only; needs no shell, ``ps`` or ``tar``.
"""

import _thread
import base64
import json
import os
import re
import select
import signal
import sys
import time

# Only what every operation needs is imported here: Python's start is most of what `list` costs,
# so modules that some operations need (subprocess, socket, tempfile, threading, traceback...) are
# imported in the functions that use them.

# ---------------------------------------------------------------------------------------------
# Constants shared with contract.ts
# ---------------------------------------------------------------------------------------------

#: Environment variables whose values are reported (never any other: they may hold secrets).
REPORTED_ENV = (
    'WERKZEUG_RUN_MAIN',
    'RUN_MAIN',
    'PYTHON_DISABLE_REMOTE_DEBUG',
    'SERVER_SOFTWARE',
)

ERROR_CODES = (
    'no-such-process',
    'not-python',
    'python-too-old',
    'remote-debug-disabled',
    'permission-denied',
    'no-writable-dir',
    'no-debugpy',
    'timeout',
    'injected-code-failed',
    'version-mismatch',
    'internal',
)

DEFAULT_SAMPLE_SECONDS = 0.2
CAP_SYS_PTRACE = 19
PRIVATE_DIR_BASES = ('/tmp', '/dev/shm', '/var/tmp')
DISABLE_ENV = 'PYTHON_DISABLE_REMOTE_DEBUG'
DISABLE_XOPTION = 'disable-remote-debug'
PROBE_TIMEOUT_SECONDS = 2.0
HELPER_TIMEOUT_SECONDS = 15.0
#: once the payload said `started`, how long it may take to finish (debugpy.listen waits up to 30 s
#: for its adapter; user code may be slow)
MIN_RUN_SECONDS = 60.0
#: with waitForClient the target's main thread waits for a debugger at most this long
WAIT_FOR_CLIENT_SECONDS = 300
#: stdout/stderr of exec'd code are cut beyond this many characters each
MAX_OUTPUT_CHARS = 1 << 20
#: sockaddr_un.sun_path holds 108 bytes including the NUL
MAX_SOCKET_PATH = 107

PYTHON_EXE_RE = re.compile(r'^python(\d+(\.\d+)?)?t?$')

# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class AgentError(Exception):
    """An outcome the CLI knows how to explain: becomes an `error` event."""

    def __init__(self, code, message, **extra):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.extra = extra


_emit_lock = _thread.allocate_lock()
#: in a session, `.id` is the id of the request the current thread serves (threading.local)
_request = _thread._local()
_serving = False


def emit(event):
    """Write one event line; in a session, tagged with the current thread's request id."""
    request_id = getattr(_request, 'id', None)
    if request_id is not None and 'id' not in event:
        event = dict(event, id=request_id)
    line = json.dumps(event, separators=(',', ':')) + '\n'
    with _emit_lock:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):
            if not _serving:
                raise
            # nobody reads us any more: end the session as at the end of stdin
            os.kill(os.getpid(), signal.SIGTERM)


# ---------------------------------------------------------------------------------------------
# Reading /proc
# ---------------------------------------------------------------------------------------------


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def read_text_or_none(path):
    try:
        with open(path, 'r', errors='replace') as f:
            return f.read()
    except (OSError, ValueError):
        return None


def readlink_or_none(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def list_pids():
    return sorted(int(name) for name in os.listdir('/proc') if name.isdigit())


def process_exists(pid):
    return os.path.exists('/proc/%d/stat' % pid)


def parse_stat(text):
    """Fields of /proc/PID/stat that we use. The command name may hold spaces and parentheses."""
    fields = text[text.rindex(')') + 2:].split()
    # fields[0] is field 3 of proc(5) ("state")
    return {
        'state': fields[0],
        'ppid': int(fields[1]),
        'ticks': int(fields[11]) + int(fields[12]),  # utime + stime
        'starttime': int(fields[19]),
    }


def read_stat(pid):
    """None when the process is gone."""
    try:
        return parse_stat(read_bytes('/proc/%d/stat' % pid).decode('utf-8', 'replace'))
    except (OSError, ValueError, IndexError):
        return None


def parse_status(text):
    status = {}
    for line in text.splitlines():
        key, _, value = line.partition(':')
        status[key] = value.strip()
    return status


def read_status(pid):
    text = read_text_or_none('/proc/%s/status' % pid)
    return parse_status(text) if text is not None else None


def status_ids(status, key):
    """Uid/Gid lines: real, effective, saved, filesystem."""
    try:
        return [int(v) for v in status[key].split()]
    except (KeyError, ValueError):
        return []


def read_cmdline(pid):
    try:
        raw = read_bytes('/proc/%d/cmdline' % pid)
    except OSError:
        return []
    if raw.endswith(b'\0'):
        raw = raw[:-1]
    if not raw:
        return []
    return [arg.decode('utf-8', 'replace') for arg in raw.split(b'\0')]


def parse_environ(raw):
    env = {}
    for entry in raw.split(b'\0'):
        name, sep, value = entry.partition(b'=')
        if sep:
            env[name.decode('utf-8', 'replace')] = value.decode('utf-8', 'replace')
    return env


def read_environ(pid):
    """The whole environment, or None when not permitted. Only reported_env() leaves the agent."""
    try:
        return parse_environ(read_bytes('/proc/%d/environ' % pid))
    except OSError:
        return None


def reported_env(environ):
    if environ is None:
        return None
    return dict((name, environ[name]) for name in REPORTED_ENV if name in environ)


def read_rss_bytes(pid):
    text = read_text_or_none('/proc/%d/statm' % pid)
    try:
        return int(text.split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (AttributeError, IndexError, ValueError):
        return 0


def read_uptime_seconds():
    return float(read_text_or_none('/proc/uptime').split()[0])


def read_passwd(path='/etc/passwd'):
    """uid -> user name, from the container's own /etc/passwd."""
    users = {}
    text = read_text_or_none(path) or ''
    for line in text.splitlines():
        parts = line.split(':')
        if len(parts) >= 3 and parts[2].isdigit():
            users.setdefault(int(parts[2]), parts[0])
    return users


def is_python_executable(path):
    if not path:
        return False
    name = os.path.basename(path)
    if name.endswith(' (deleted)'):
        name = name[:-len(' (deleted)')]
    return bool(PYTHON_EXE_RE.match(name))


# Interpreter options that take a value (the value may be glued: "-Xdev", "-Wignore").
_OPTIONS_WITH_VALUE = 'WX'
_LONG_OPTIONS_WITH_VALUE = ('--check-hash-based-pycs',)


def parse_python_options(argv):
    """(single-letter flags, -X options) of a Python command line, up to the script/-c/-m."""
    flags, xoptions = set(), []
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == '--' or arg == '-' or not arg.startswith('-'):
            break
        if arg.startswith('--'):
            if arg in _LONG_OPTIONS_WITH_VALUE:
                i += 1
            continue
        letters = arg[1:]
        stop = False
        for j, letter in enumerate(letters):
            if letter in 'cm':
                stop = True
                break
            if letter in _OPTIONS_WITH_VALUE:
                value = letters[j + 1:]
                if not value and i < len(args):
                    value = args[i]
                    i += 1
                if letter == 'X':
                    xoptions.append(value)
                break
            flags.add(letter)
        if stop:
            break
    return flags, xoptions


def remote_debug_disabled_reason(environ, flags, xoptions):
    """Why sys.remote_exec will be refused by this process, or None.

    Measured on 3.14: the variable disables remote debugging whatever its value (even empty),
    -E/-I make the interpreter ignore it, and only the hyphenated -X spelling counts.
    """
    if DISABLE_XOPTION in xoptions or any(x.startswith(DISABLE_XOPTION + '=') for x in xoptions):
        return 'started with -X %s' % DISABLE_XOPTION
    if environ is not None and DISABLE_ENV in environ and not (flags & set('EI')):
        return '%s is set in its environment' % DISABLE_ENV
    return None


def version_tuple(version):
    try:
        return tuple(int(part) for part in version.split('.')[:3])
    except (AttributeError, ValueError):
        return None


def too_old_reason(version):
    parts = version_tuple(version)
    if parts is not None and parts[:2] < (3, 14):
        return 'Python %s: sys.remote_exec needs 3.14+' % version
    return None


# ---------------------------------------------------------------------------------------------
# Permission to trace
# ---------------------------------------------------------------------------------------------


def read_yama_scope():
    text = read_text_or_none('/proc/sys/kernel/yama/ptrace_scope')
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return None


def agent_capabilities():
    status = read_status('self') or {}
    try:
        effective = int(status.get('CapEff', '0'), 16)
        permitted = int(status.get('CapPrm', '0'), 16)
    except ValueError:
        effective = permitted = 0
    return {
        'uid': os.getuid(),
        'gid': os.getgid(),
        'sysPtrace': bool(effective & (1 << CAP_SYS_PTRACE)),
        'permitted': permitted,
        'yamaPtraceScope': read_yama_scope(),
    }


def public_capabilities(caps):
    return {'uid': caps['uid'], 'sysPtrace': caps['sysPtrace'], 'yamaPtraceScope': caps['yamaPtraceScope']}


def ptrace_denial(status, environ_readable, caps):
    """Why the kernel will refuse process_vm_readv/writev on this process, or None.

    Mirrors __ptrace_may_access + Yama for PTRACE_MODE_ATTACH_REALCREDS: without CAP_SYS_PTRACE
    the agent needs the target's uids and gids to equal its own, the target's permitted
    capabilities to be a subset of its own, and Yama to allow it (scope 1 only lets an ancestor
    attach, which `kubectl exec` never is).
    """
    scope = caps['yamaPtraceScope']
    if scope is not None and scope >= 3:
        return 'no permission to trace it: Yama ptrace_scope=3 forbids attaching to any process'
    if caps['sysPtrace']:
        return None
    if scope == 2:
        return 'no permission to trace it: Yama ptrace_scope=2 needs CAP_SYS_PTRACE, which the agent lacks'
    if scope == 1:
        return ('no permission to trace it: Yama ptrace_scope=1 lets only a parent attach without '
                'CAP_SYS_PTRACE, which the agent lacks')
    uids, gids = status_ids(status, 'Uid'), status_ids(status, 'Gid')
    if uids and any(uid != caps['uid'] for uid in uids):
        return ('no permission to trace it: it runs as uid %d, the agent as uid %d without '
                'CAP_SYS_PTRACE' % (uids[0], caps['uid']))
    if gids and any(gid != caps['gid'] for gid in gids):
        return ('no permission to trace it: it runs as gid %d, the agent as gid %d without '
                'CAP_SYS_PTRACE' % (gids[0], caps['gid']))
    try:
        target_permitted = int(status.get('CapPrm', '0'), 16)
    except ValueError:
        target_permitted = 0
    if target_permitted & ~caps['permitted']:
        return 'no permission to trace it: it holds capabilities the agent lacks (and no CAP_SYS_PTRACE)'
    if not environ_readable:
        return 'no permission to trace it: its /proc entries are not readable by the agent'
    return None


# ---------------------------------------------------------------------------------------------
# Sockets: /proc/net/tcp and debugpy listeners
# ---------------------------------------------------------------------------------------------

TCP_ESTABLISHED = 1
TCP_LISTEN = 10


def _decode_address(text):
    import socket
    host_hex, port_hex = text.split(':')
    raw = bytes.fromhex(host_hex)
    # the kernel prints each 32-bit word in host (little-endian) order
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    packed = b''.join(words)
    if len(packed) == 4:
        host = socket.inet_ntop(socket.AF_INET, packed)
    else:
        host = socket.inet_ntop(socket.AF_INET6, packed)
    return host, int(port_hex, 16)


def parse_proc_net_tcp(text):
    """Entries of /proc/net/tcp or tcp6: local, remote (host, port), state, uid, inode."""
    entries = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10:
            continue
        try:
            entries.append({
                'local': _decode_address(parts[1]),
                'remote': _decode_address(parts[2]),
                'state': int(parts[3], 16),
                'uid': int(parts[7]),
                'inode': int(parts[9]),
            })
        except ValueError:
            continue
    return entries


def read_tcp_sockets():
    entries = []
    for path in ('/proc/net/tcp', '/proc/net/tcp6'):
        text = read_text_or_none(path)
        if text:
            entries.extend(parse_proc_net_tcp(text))
    return entries


def socket_inodes(pid):
    inodes = set()
    fd_dir = '/proc/%d/fd' % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        target = readlink_or_none(fd_dir + '/' + name)
        if target and target.startswith('socket:['):
            inodes.add(int(target[8:-1]))
    return inodes


#: how long waking a target may take at the most (a loopback connect completes at once)
WAKE_TIMEOUT_SECONDS = 0.1


def wake_address(local):
    """Where to connect to a listener bound to `local` (host, port): loopback for a wildcard."""
    host, port = local
    if host == '0.0.0.0':
        return '127.0.0.1', port
    if host == '::':
        return '::1', port
    return host, port


def wake(pid):
    """Connect to one of the process's own listening TCP sockets and close at once (no bytes).

    A server idle in epoll_wait()/select() runs a pending sys.remote_exec script only when that call
    returns (uvicorn: up to 0.1 s later); a connection, like a TCP liveness probe, makes it return now.
    """
    import socket
    try:
        inodes = socket_inodes(pid)
        listeners = sorted(set(e['local'] for e in read_tcp_sockets() if e['state'] == TCP_LISTEN
                               and e['inode'] in inodes), key=lambda local: (':' in local[0], local[1]))
        if not listeners:
            return
        host, port = wake_address(listeners[0])
        sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
    except Exception:
        return
    try:
        sock.setblocking(False)
        if sock.connect_ex((host, port)) != 0:
            # in progress: the listener's poll wakes once the handshake completes
            select.select([], [sock], [], WAKE_TIMEOUT_SECONDS)
    except Exception:
        pass
    finally:
        sock.close()


def option_value(argv, name):
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + '='):
            return arg[len(name) + 1:]
    return None


def debugpy_adapter_port(argv):
    """The client port of a debugpy adapter started by debugpy.listen(), else None."""
    if '--for-server' not in argv or not any('debugpy/adapter' in a or a == 'debugpy.adapter' for a in argv):
        return None
    try:
        return int(option_value(argv, '--port'))
    except (TypeError, ValueError):
        return None


def debugpy_adapters(argv_by_pid):
    """pid -> client port of every debugpy adapter process."""
    adapters = {}
    for pid, argv in argv_by_pid.items():
        port = debugpy_adapter_port(argv)
        if port is not None:
            adapters[pid] = port
    return adapters


def debugpy_listener_of(pid):
    """(client port of the live debugpy adapter serving `pid` or None, whether that is certain).

    Uncertain when an adapter's sockets cannot be read (another user's process).
    """
    argv_by_pid = dict((p, read_cmdline(p)) for p in list_pids())
    known = all(os.access('/proc/%d/fd' % p, os.R_OK | os.X_OK) for p in debugpy_adapters(argv_by_pid))
    return find_debugpy_ports(argv_by_pid).get(pid), known


def find_debugpy_ports(argv_by_pid):
    """pid -> client port of the debugpy adapter that serves it.

    debugpy.listen() spawns an adapter (`.../debugpy/adapter --for-server N --port P`) that
    listens on P for clients and on a second, random port for the debugged process, whose pydevd
    keeps a TCP connection to it. (N is only the listen() caller's short-lived endpoint listener.)
    Link them through the socket inodes of /proc/net/tcp{,6} and /proc/PID/fd.
    """
    adapters = debugpy_adapters(argv_by_pid)
    if not adapters:
        return {}
    sockets = read_tcp_sockets()
    client_port_by_server_port = {}
    for pid, client_port in adapters.items():
        inodes = socket_inodes(pid)
        listening = set(e['local'][1] for e in sockets if e['state'] == TCP_LISTEN and e['inode'] in inodes)
        if client_port in listening:
            for server_port in listening - set([client_port]):
                client_port_by_server_port[server_port] = client_port
    client_port_by_inode = {}
    for e in sockets:
        if e['state'] == TCP_ESTABLISHED and e['inode'] and e['remote'][1] in client_port_by_server_port:
            client_port_by_inode[e['inode']] = client_port_by_server_port[e['remote'][1]]
    ports = {}
    if not client_port_by_inode:
        return ports
    for pid in argv_by_pid:
        if pid in adapters:
            continue
        for inode in socket_inodes(pid):
            if inode in client_port_by_inode:
                ports[pid] = client_port_by_inode[inode]
                break
    return ports


# ---------------------------------------------------------------------------------------------
# What a thread is blocked in
# ---------------------------------------------------------------------------------------------

_SYSCALL_NAMES = {
    'x86_64': {
        0: 'read()', 7: 'poll()', 23: 'select()', 270: 'select()', 271: 'poll()',
        232: 'epoll_wait()', 281: 'epoll_wait()', 441: 'epoll_wait()',
        202: 'a lock or Event.wait()', 35: 'time.sleep()', 230: 'time.sleep()',
        43: 'accept()', 288: 'accept()', 45: 'recv()', 47: 'recv()',
        61: 'waitpid()', 247: 'waitpid()', 34: 'signal.pause()', 42: 'connect()',
    },
    'aarch64': {
        63: 'read()', 73: 'poll()', 72: 'select()', 22: 'epoll_wait()', 441: 'epoll_wait()',
        98: 'a lock or Event.wait()', 101: 'time.sleep()', 115: 'time.sleep()',
        202: 'accept()', 242: 'accept()', 207: 'recv()', 212: 'recv()',
        260: 'waitpid()', 95: 'waitpid()', 203: 'connect()',
    },
}

_WCHAN_NAMES = (
    ('select', 'select()'),
    ('poll_schedule', 'select() or poll()'),
    ('epoll', 'epoll_wait()'),
    ('ep_poll', 'epoll_wait()'),
    ('futex', 'a lock or Event.wait()'),
    ('nanosleep', 'time.sleep()'),
    ('inet_csk_accept', 'accept()'),
    ('pipe_read', 'read()'),
    ('sk_wait_data', 'recv()'),
    ('unix_stream_read', 'recv()'),
    ('do_wait', 'waitpid()'),
    ('pause', 'signal.pause()'),
)


def describe_blocking(syscall_text, wchan, machine):
    """A short human name for what a sleeping thread waits in, from /proc syscall and wchan."""
    if syscall_text:
        first = syscall_text.split()[0] if syscall_text.split() else ''
        if first == 'running':
            return None
        if first.lstrip('-').isdigit():
            name = _SYSCALL_NAMES.get(machine, {}).get(int(first))
            if name:
                return name
    if wchan and wchan != '0':
        for fragment, name in _WCHAN_NAMES:
            if fragment in wchan:
                return name
        return wchan
    return None


def blocked_in(pid):
    task = '/proc/%d/task/%d' % (pid, pid)
    stat = read_stat(pid)
    if stat is None or stat['state'] == 'R':
        return None
    return describe_blocking(read_text_or_none(task + '/syscall'),
                             (read_text_or_none(task + '/wchan') or '').strip(),
                             os.uname()[4])


# ---------------------------------------------------------------------------------------------
# Helper processes run with the target's own interpreter
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Process records (list) and target validation (inject, exec, stack)
# ---------------------------------------------------------------------------------------------


def exe_identity(pid):
    """(st_dev, st_ino) of the process's executable: one version probe per distinct binary."""
    return file_identity('/proc/%d/exe' % pid)


def redact_argv(argv):
    """debugpy's adapter receives a server access token on its command line: never show it."""
    redacted = list(argv)
    for i, arg in enumerate(redacted[:-1]):
        if arg == '--server-access-token':
            redacted[i + 1] = '***'
    return redacted


class ProcessFacts(object):
    """Everything read about one process except CPU% and the Python version."""

    def __init__(self, pid, stat):
        self.pid = pid
        self.stat = stat
        self.status = read_status(pid) or {}
        self.argv = read_cmdline(pid)
        self.exe = readlink_or_none('/proc/%d/exe' % pid)
        self.environ = read_environ(pid)
        self.cwd = readlink_or_none('/proc/%d/cwd' % pid)
        self.is_python = is_python_executable(self.exe or (self.argv[0] if self.argv else None))
        self.flags, self.xoptions = parse_python_options(self.argv) if self.is_python else (set(), [])
        uids = status_ids(self.status, 'Uid')
        self.uid = uids[0] if uids else -1

    def unusable_reason(self, caps, version, supported):
        """Why kubectl-wand cannot inject this process, or None. Cheapest and most telling first."""
        if not self.is_python:
            return 'not a Python process'
        denial = ptrace_denial(self.status, self.environ is not None, caps)
        if denial:
            return denial
        if version is None:
            return 'could not ask its interpreter for its Python version'
        too_old = too_old_reason(version)
        if too_old:
            return too_old
        if supported is False:
            return 'Python %s was built without remote debugging support' % version
        return remote_debug_disabled_reason(self.environ, self.flags, self.xoptions)

    def record(self, users, uptime, cpu_percent, version, supported, caps, debugpy_port):
        reason = self.unusable_reason(caps, version, supported)
        clk_tck = os.sysconf('SC_CLK_TCK')
        return {
            'pid': self.pid,
            'ppid': self.stat['ppid'],
            'uid': self.uid,
            'user': users.get(self.uid, str(self.uid)),
            'argv': redact_argv(self.argv),
            'exe': self.exe,
            'isPython': self.is_python,
            'python': version if self.is_python else None,
            'cpuPercent': round(cpu_percent, 1),
            'rssBytes': read_rss_bytes(self.pid),
            'uptimeSeconds': round(max(0.0, uptime - self.stat['starttime'] / float(clk_tck)), 2),
            'cwd': self.cwd,
            'env': reported_env(self.environ),
            'xOptions': self.xoptions,
            'debuggable': reason is None,
            'reason': reason,
            'debugpyPort': debugpy_port,
        }


#: exe identity -> (version, remote debug supported) of the interpreters asked so far: a session
#: lists often, and a binary's version does not change
_known_versions = {}


def start_version_probes(pids):
    """(identity -> probe process or None, pid -> identity) for the Python processes among `pids`."""
    probes, identity_by_pid = {}, {}
    for pid in pids:
        if not is_python_executable(readlink_or_none('/proc/%d/exe' % pid)):
            continue
        identity = exe_identity(pid)
        if identity is None:
            continue
        identity_by_pid[pid] = identity
        if identity not in probes and identity not in _known_versions:
            known = own_answers(identity)
            if known is not None:
                _known_versions[identity] = known
                continue
            try:
                probes[identity] = start_target_python('/proc/%d/exe' % pid, PROBE_SOURCE)
            except OSError:
                probes[identity] = None
    return probes, identity_by_pid


def finish_version_probes(probes, deadline):
    """identity -> (version, supported) for these probes and every interpreter asked before."""
    versions = dict(_known_versions)
    for identity, proc in probes.items():
        version = (None, None)
        if proc is not None:
            code, out, _ = finish_process(proc, deadline - time.monotonic())
            version = parse_probe_output(out) if code == 0 else (None, None)
        if version[0] is not None:
            _known_versions[identity] = version
        versions[identity] = version
    return versions


def cpu_percentages(first, started, sample_seconds):
    """pid -> CPU% over the sample interval (0 without sampling); processes gone by then are left out."""
    if sample_seconds <= 0:
        return dict((pid, 0.0) for pid in first if process_exists(pid))
    time.sleep(max(0.0, started + sample_seconds - time.monotonic()))
    elapsed = time.monotonic() - started
    clk_tck = float(os.sysconf('SC_CLK_TCK'))
    cpu = {}
    for pid, stat in first.items():
        second = read_stat(pid)
        if second is not None and elapsed > 0:
            cpu[pid] = max(0.0, (second['ticks'] - stat['ticks']) / clk_tck / elapsed * 100.0)
    return cpu


def list_processes(sample_seconds):
    """ListResult. Version probes of the interpreters run during the CPU sampling interval."""
    caps = agent_capabilities()
    own_pid = os.getpid()
    started = time.monotonic()
    first = {}
    for pid in list_pids():
        if pid == own_pid:
            continue
        stat = read_stat(pid)
        if stat is not None and stat['ppid'] != own_pid:
            first[pid] = stat

    probes, identity_by_pid = start_version_probes(first)
    facts = dict((pid, ProcessFacts(pid, stat)) for pid, stat in first.items())
    users = read_passwd()
    debugpy_ports = find_debugpy_ports(dict((pid, f.argv) for pid, f in facts.items()))
    cpu = cpu_percentages(first, started, sample_seconds)
    versions = finish_version_probes(probes, started + max(sample_seconds, 0) + PROBE_TIMEOUT_SECONDS)

    uptime = read_uptime_seconds()
    records = []
    for pid, f in sorted(facts.items()):
        if pid not in cpu:  # exited during the sample
            continue
        version, supported = versions.get(identity_by_pid.get(pid), (None, None))
        records.append(f.record(users, uptime, cpu[pid], version, supported, caps, debugpy_ports.get(pid)))
    return {
        'op': 'list',
        'agentPython': python_version(),
        'capabilities': public_capabilities(caps),
        'processes': records,
    }


def python_version():
    return '%d.%d.%d' % tuple(sys.version_info[:3])


class Target(object):
    """A validated target process: Python 3.14+, ours to trace."""

    def __init__(self, pid, facts, version):
        self.pid = pid
        self.facts = facts
        self.version = version
        self.exe_path = '/proc/%d/exe' % pid
        uids = status_ids(facts.status, 'Uid')
        gids = status_ids(facts.status, 'Gid')
        # files are opened with the filesystem ids (4th field)
        self.fsuid = uids[3] if len(uids) > 3 else (uids[0] if uids else os.getuid())
        self.fsgid = gids[3] if len(gids) > 3 else (gids[0] if gids else os.getgid())


def inspect_target(pid, need_remote_exec=True):
    """A Target, or AgentError with the code that explains why not."""
    stat = read_stat(pid) if pid > 0 else None
    if stat is None or pid == os.getpid():
        raise AgentError('no-such-process', 'no process %d in this container' % pid)
    facts = ProcessFacts(pid, stat)
    if not facts.is_python:
        name = facts.exe or (facts.argv[0] if facts.argv else '?')
        raise AgentError('not-python', 'process %d (%s) is not a Python interpreter' % (pid, name))
    caps = agent_capabilities()
    denial = ptrace_denial(facts.status, facts.environ is not None, caps)
    if denial:
        raise AgentError('permission-denied', 'process %d: %s' % (pid, denial))
    version, supported = probe_python('/proc/%d/exe' % pid)
    if version is None:
        if not process_exists(pid):
            raise AgentError('no-such-process', 'process %d exited' % pid)
        raise AgentError('internal', 'could not ask the interpreter of process %d for its version' % pid)
    too_old = too_old_reason(version)
    if too_old:
        raise AgentError('python-too-old', 'process %d: %s' % (pid, too_old))
    if need_remote_exec:
        if supported is False:
            raise AgentError('remote-debug-disabled',
                             'process %d: Python %s was built without remote debugging' % (pid, version))
        disabled = remote_debug_disabled_reason(facts.environ, facts.flags, facts.xoptions)
        if disabled:
            raise AgentError('remote-debug-disabled', 'process %d: remote debugging is disabled: %s' % (pid, disabled))
    return Target(pid, facts, version)


def error_from_helper(pid, stderr, what):
    """Map the error text of the injector or the stack reader to an AgentError."""
    text = stderr.strip() or 'no output'
    if 'Remote debugging is not enabled in the remote process' in text:
        return AgentError('remote-debug-disabled', 'process %d has remote debugging disabled (%s)' % (pid, text))
    if 'Remote debugging is not enabled' in text:
        return AgentError('remote-debug-disabled', 'the interpreter refused remote debugging: %s' % text)
    if "Can't send commands from a Python" in text or 'version mismatch' in text.lower():
        return AgentError('version-mismatch', text)
    if not process_exists(pid) or 'ProcessLookupError' in text or 'No such process' in text:
        return AgentError('no-such-process', 'process %d exited' % pid)
    if 'PermissionError' in text or 'Operation not permitted' in text or 'Permission denied' in text:
        return AgentError('permission-denied', 'not permitted to %s process %d: %s' % (what, pid, text))
    if 'Function not implemented' in text or 'ENOSYS' in text:
        return AgentError('internal', 'the kernel refuses to read process memory (process_vm_readv: ENOSYS; '
                                      'a gVisor sandbox?): %s' % text)
    if 'Script file does not exist' in text:
        return AgentError('internal', 'the injector could not see the script file; does the agent run in '
                                      "the target's container? (%s)" % text)
    return AgentError('internal', 'could not %s process %d: %s' % (what, pid, text))


# ---------------------------------------------------------------------------------------------
# Stacks (no code runs in the target)
# ---------------------------------------------------------------------------------------------


def _frame_from_plain(frame):
    if isinstance(frame, dict):
        line = frame.get('lineno')
        location = frame.get('location')
        if line is None and isinstance(location, dict):
            line = location.get('lineno')
        elif line is None and isinstance(location, list) and location:
            line = location[0]
        return {'function': str(frame.get('funcname') or frame.get('function') or '?'),
                'file': str(frame.get('filename') or frame.get('file') or '?'),
                'line': int(line or 0)}
    if isinstance(frame, list):
        numbers = [v for v in frame if isinstance(v, int) and not isinstance(v, bool)]
        texts = [v for v in frame if isinstance(v, str)]
        line = numbers[0] if numbers else 0
        if len(texts) >= 2:
            # Documented order is (function, file, line); structseq order is (file, line, function).
            function, file = texts[0], texts[1]
            if _looks_like_path(function) and not _looks_like_path(file):
                function, file = file, function
            return {'function': function, 'file': file, 'line': line}
    return {'function': str(frame), 'file': '?', 'line': 0}


def _looks_like_path(text):
    return '/' in text or '\\' in text or text.endswith('.py') or (text.startswith('<') and text.endswith('>')
                                                                   and text not in ('<module>', '<lambda>'))


def _threads_from_plain(value):
    """Flatten RemoteUnwinder output (threads, or interpreters holding threads) to (id, frames)."""
    threads = []
    for item in value or []:
        if isinstance(item, dict) and 'threads' in item:
            threads.extend(_threads_from_plain(item['threads']))
        elif isinstance(item, dict):
            threads.append((item.get('thread_id'), item.get('frame_info') or []))
        elif isinstance(item, list) and len(item) == 2 and isinstance(item[1], list):
            threads.append((item[0], item[1]))
    return threads


def normalise_stacks(raw, pid):
    """ThreadStack[] (main thread first) from the stack reader's plain JSON."""
    threads = _threads_from_plain(raw.get('threads'))
    main_threads = _threads_from_plain(raw.get('main'))
    main_id = main_threads[0][0] if main_threads else pid
    stacks = []
    for thread_id, frames in threads:
        stacks.append({
            'threadId': int(thread_id) if isinstance(thread_id, int) else 0,
            'isMain': thread_id == main_id,
            'frames': [_frame_from_plain(f) for f in frames],
        })
    if not any(s['isMain'] for s in stacks):
        for s in stacks:
            s['isMain'] = s['threadId'] == pid
    stacks.sort(key=lambda s: not s['isMain'])
    return stacks


def read_stacks(target):
    try:
        proc = start_target_python(target.exe_path, STACK_SOURCE, [target.pid])
    except OSError as exc:
        raise AgentError('internal', 'could not run the interpreter of process %d: %s' % (target.pid, exc))
    code, out, err = finish_process(proc, HELPER_TIMEOUT_SECONDS)
    if code != 0:
        raise error_from_helper(target.pid, err, 'read the stacks of')
    try:
        return normalise_stacks(json.loads(out), target.pid)
    except ValueError:
        raise AgentError('internal', 'unreadable stack output: %r' % out[:200])


def main_thread_stack_or_none(target):
    try:
        return [s for s in read_stacks(target) if s['isMain']] or None
    except AgentError:
        return None


# ---------------------------------------------------------------------------------------------
# Private directories
# ---------------------------------------------------------------------------------------------


def visible_to_target(target, path):
    """True unless the target's root shows something else at `path` (another mount namespace)."""
    try:
        mine = os.stat(path)
        theirs = os.stat('/proc/%d/root%s' % (target.pid, path))
    except PermissionError:
        return True
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def private_dir_bases(target):
    bases = list(PRIVATE_DIR_BASES)
    if target.facts.cwd and target.facts.cwd.startswith('/') and target.facts.cwd not in bases:
        bases.append(target.facts.cwd)
    return bases


def give_to_target(path, target):
    """Let a target running as another uid use a file we (root) created for it."""
    if os.getuid() == 0 and target.fsuid != 0:
        os.chown(path, target.fsuid, target.fsgid)


def make_private_dir(target):
    """mkdtemp('wand-') in the first base that is writable, visible to the target, short enough."""
    import tempfile
    tried = []
    for base in private_dir_bases(target):
        try:
            path = tempfile.mkdtemp(prefix='wand-', dir=base)
        except OSError as exc:
            tried.append('%s (%s)' % (base, exc.strerror or exc))
            continue
        if len((path + '/status').encode()) > MAX_SOCKET_PATH or not visible_to_target(target, path):
            os.rmdir(path)
            tried.append('%s (not usable by the target)' % base)
            continue
        try:
            give_to_target(path, target)
        except OSError as exc:
            os.rmdir(path)
            tried.append('%s (cannot give it to uid %d: %s)' % (base, target.fsuid, exc.strerror or exc))
            continue
        return path
    raise AgentError('no-writable-dir', 'no writable directory for the injected script: tried ' + ', '.join(tried))


_cleanups_lock = _thread.allocate_lock()
#: cleanups of requests in flight: a session that ends runs them from the main thread
_cleanups = set()


class cleanup_after(object):
    """Run `cleanup` after the block, or before it ends if the session ends first (so: idempotent)."""

    def __init__(self, cleanup):
        self.cleanup = cleanup

    def __enter__(self):
        with _cleanups_lock:
            _cleanups.add(self.cleanup)

    def __exit__(self, *exc_info):
        with _cleanups_lock:
            _cleanups.discard(self.cleanup)
        self.cleanup()


def run_pending_cleanups():
    with _cleanups_lock:
        pending = list(_cleanups)
        _cleanups.clear()
    for cleanup in pending:
        try:
            cleanup()
        except Exception:
            pass


def remove_quietly(path, is_dir=False):
    try:
        if is_dir:
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def debugpy_copy(target, zip_b64, base):
    """Directory holding `debugpy/`, extracted once per content hash next to the private dir.

    It stays after the agent exits: the target imports from it for as long as it debugs. It is
    owned by the agent, world-readable and not writable by others, and reused only if it still is.
    """
    import hashlib
    import io
    import shutil
    import tempfile
    import zipfile
    data = base64.b64decode(zip_b64)
    final = os.path.join(base, 'wand-debugpy-' + hashlib.sha256(data).hexdigest()[:16])
    if trusted_debugpy_copy(final, target):
        return package_root(final)
    staging = tempfile.mkdtemp(prefix='wand-debugpy-tmp-', dir=base)
    in_use = []  # gets `staging` when the target is to import from it
    with cleanup_after(lambda: in_use or shutil.rmtree(staging, ignore_errors=True)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(staging)
        for root, dirs, files in os.walk(staging):
            os.chmod(root, 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        if package_root(staging) is None:
            raise AgentError('no-debugpy', 'the debugpy archive holds no debugpy/__init__.py')
        try:
            os.rename(staging, final)
        except OSError:
            # another agent won the race; use its copy if it is sound, else ours under a random name
            if not trusted_debugpy_copy(final, target):
                final = staging
                in_use.append(staging)
    return package_root(final)


def trusted_debugpy_copy(path, target):
    try:
        st = os.lstat(path)
    except OSError:
        return False
    import stat as stat_module
    return (stat_module.S_ISDIR(st.st_mode) and not st.st_mode & 0o022
            and st.st_uid in (0, os.getuid(), target.fsuid) and package_root(path) is not None)


def package_root(path):
    """The directory to put on sys.path: `path` or its single subdirectory holding debugpy/."""
    if os.path.isfile(os.path.join(path, 'debugpy', '__init__.py')):
        return path
    try:
        entries = [e for e in os.listdir(path) if os.path.isdir(os.path.join(path, e))]
    except OSError:
        return None
    for entry in entries:
        if os.path.isfile(os.path.join(path, entry, 'debugpy', '__init__.py')):
            return os.path.join(path, entry)
    return None


# ---------------------------------------------------------------------------------------------
# The injected script
# ---------------------------------------------------------------------------------------------

# Runs in the target, on its main thread, with fresh globals (no __file__). Its only input is the
# base64 JSON literal substituted for __WAND_CONFIG__: no string is ever interpolated into code.
# Nothing may escape from it: every failure is reported to the agent or dropped.
PAYLOAD_TEMPLATE = r'''
# kubectl-wand: injected through sys.remote_exec; reports to the kubectl-wand agent, then returns.

class _WandChannel(object):
    def __init__(self, sock):
        self.sock = sock

    @classmethod
    def connect(cls, path):
        import socket
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(5.0)
            sock.connect(path)
        except OSError:
            sock.close()
            return None
        return cls(sock)

    def send(self, message):
        import json, socket
        try:
            self.sock.settimeout(30.0)
            self.sock.sendall(json.dumps(message).encode('ascii') + b'\n', socket.MSG_NOSIGNAL)
        except OSError:
            pass

    def wait_for_go(self):
        received = b''
        try:
            self.sock.settimeout(5.0)
            while not received.endswith(b'\n'):
                chunk = self.sock.recv(64)
                if not chunk:
                    return False
                received += chunk
        except OSError:
            return False
        return received.strip() == b'go'

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _wand_forget(config):
    """The agent is gone: remove the files it left for us (only those) and do nothing else."""
    import os
    for path, remove in ((config['payload'], os.unlink), (config['dir'], os.rmdir)):
        try:
            remove(path)
        except OSError:
            pass


def _wand_main_file():
    import os, sys
    main = sys.modules.get('__main__')
    path = getattr(main, '__file__', None)
    if not path and sys.argv and sys.argv[0] not in ('', '-c', '-m', '-'):
        path = sys.argv[0]
    return os.path.abspath(path) if path else None


def _wand_cwd():
    import os
    try:
        return os.getcwd()
    except OSError:
        return ''


def _wand_import_debugpy(config):
    import sys
    if config.get('debugpyPath') and 'debugpy' not in sys.modules:
        if config['debugpyPath'] not in sys.path:
            sys.path.insert(0, config['debugpyPath'])
    import debugpy
    return debugpy


def _wand_inject(config, channel, sys_path0):
    """Make debugpy listen (or find it listening); report it. Returns what to do after closing."""
    import sys
    existing = getattr(sys, '_wand_debugpy', None)
    try:
        debugpy = _wand_import_debugpy(config)
    except ImportError as exc:
        channel.send({'status': 'error', 'code': 'no-debugpy',
                      'message': 'debugpy cannot be imported in the target: %s' % exc})
        return None
    api = sys.modules.get('debugpy.server.api')
    called = bool(getattr(getattr(api, 'listen', None), 'called', False))
    host, port = '127.0.0.1', config['livePort']

    def report(host, port, reused):
        main_file = _wand_main_file()
        channel.send({
            'status': 'listening', 'host': host, 'port': port, 'reused': reused,
            'debugpyVersion': str(getattr(debugpy, '__version__', '?')),
            'cwd': _wand_cwd(), 'mainFile': main_file, 'sysPath0': sys_path0,
            'underSitePackages': bool(main_file) and ('/site-packages/' in main_file
                                                       or '/dist-packages/' in main_file),
        })

    if port is None and called and not config['listenerStateKnown']:
        if existing:
            host, port = existing
        report(host, port, True)
    elif port is None:
        if called:
            # The agent saw no adapter serving us: the last client's "disconnect" ended it.
            # debugpy refuses a second listen() only through this flag; listening again works
            # once pydevd has disposed of the old session (it unregisters its debugger ~0.7 s
            # after the adapter went away; a listen() before that is torn down with it).
            _wand_wait_for_old_session(api)
            api.listen.called = False
        debugpy.configure(subProcess=False)
        sys._wand_debugpy = _wand_listen(debugpy, config['port'], lambda: report('127.0.0.1', config['port'], False))
    else:
        report(host, port, True)
    if config['waitForClient']:
        return lambda: _wand_wait_for_client(debugpy, config['waitForClientSeconds'])
    return None


def _wand_listen(debugpy, port, on_adapter_listening):
    """debugpy.listen(), calling on_adapter_listening() once its adapter listens for clients.

    listen() then connects pydevd to the adapter, which takes ~0.1 s (pydevd sleeps that long for
    its threads); an editor attaching meanwhile is held by the adapter until pydevd is there (it
    waits for "the server connecting shortly"). So the port is ready before listen() returns. The
    moment is the adapter's endpoints arriving, which listen() follows with _settrace(): wrapped
    for this one call. Without that function (another debugpy), we report when listen() returns.
    """
    from debugpy.server import api
    original = getattr(api, '_settrace', None)
    reported = []

    def settrace(*args, **kwargs):
        api._settrace = original
        reported.append(True)
        on_adapter_listening()
        return original(*args, **kwargs)

    if callable(original):
        api._settrace = settrace
    try:
        address = debugpy.listen(('127.0.0.1', port))
    finally:
        if callable(original):
            api._settrace = original
    if not reported:
        on_adapter_listening()
    return address


def _wand_wait_for_old_session(api, seconds=5.0):
    import time
    get_debugger = getattr(api, 'get_global_debugger', None)
    deadline = time.monotonic() + seconds
    while get_debugger is not None and get_debugger() is not None:
        if time.monotonic() > deadline:
            raise RuntimeError("debugpy's previous session in this process is still shutting down; try again")
        time.sleep(0.05)


def _wand_wait_for_client(debugpy, seconds):
    """Hold the main thread until a client attaches, but never longer than `seconds`."""
    import threading
    timer = threading.Timer(seconds, lambda: debugpy.wait_for_client.cancel())
    timer.daemon = True
    timer.start()
    try:
        debugpy.wait_for_client()
    finally:
        timer.cancel()


def _wand_run_user_code(code, filename, namespace):
    """exec the code; like the REPL, print the repr of a final expression that is not None."""
    import ast
    tree = ast.parse(code, filename, 'exec')
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, 'exec'), namespace)
    if last is not None:
        value = eval(compile(last, filename, 'eval'), namespace)
        if value is not None:
            print(repr(value))


def _wand_user_traceback(exc, filename):
    import traceback
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return ''.join(traceback.format_exception(type(exc), exc, tb))


def _wand_clip(text, limit):
    if len(text) <= limit:
        return text
    return text[:limit] + '\n[kubectl-wand: %d more characters not shown]\n' % (len(text) - limit)


def _wand_exec(config, channel):
    """Run the user's code with stdout/stderr captured; returns True if it was interrupted."""
    import builtins, contextlib, io, linecache, sys
    code, module, filename = config['code'], config.get('module'), '<wand-exec>'
    if module:
        if module not in sys.modules:
            channel.send({'status': 'error', 'code': 'injected-code-failed',
                          'message': 'module %r is not imported in the target process' % module})
            return False
        namespace = vars(sys.modules[module])
    else:
        namespace = {'__name__': '__wand_exec__', '__builtins__': builtins}
    out, err = io.StringIO(), io.StringIO()
    trace, interrupted = None, False
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                _wand_run_user_code(code, filename, namespace)
            except BaseException as exc:
                interrupted = isinstance(exc, KeyboardInterrupt)
                trace = _wand_user_traceback(exc, filename)
    finally:
        linecache.cache.pop(filename, None)
    limit = config['maxOutputChars']
    channel.send({'status': 'exec-done', 'stdout': _wand_clip(out.getvalue(), limit),
                  'stderr': _wand_clip(err.getvalue(), limit), 'traceback': trace})
    return interrupted


def _wand_importing():
    """True while some module is half-way through its first import (on any thread)."""
    import sys
    for module in list(sys.modules.values()):
        if getattr(getattr(module, '__spec__', None), '_initializing', False):
            return True
    return False


def _wand_report_failure(channel):
    import sys, traceback
    exc = sys.exc_info()[1]
    channel.send({'status': 'error', 'code': 'injected-code-failed',
                  'message': '%s: %s' % (type(exc).__name__, exc),
                  'traceback': traceback.format_exc()})


def _wand_inject_reporting(config, channel, sys_path0):
    try:
        _wand_inject(dict(config, waitForClient=False), channel, sys_path0)
    except BaseException:
        _wand_report_failure(channel)
    finally:
        channel.close()


def _wand_after_imports(config_b64, seconds=60.0):
    """On a thread: wait until no import is in progress, then queue this script for the main thread
    again. Gives up after `seconds` (the agent then reports a timeout with the main thread's stack)."""
    import os, sys, time
    try:
        deadline = time.monotonic() + seconds
        while _wand_importing() and time.monotonic() < deadline:
            time.sleep(0.01)
        sys._wand_waiting.discard(config_b64)
        if _wand_importing():
            return
        import base64, json
        config = json.loads(base64.b64decode(config_b64).decode('utf-8'))
        if os.path.exists(config['status']):  # else the agent has given up
            sys.remote_exec(os.getpid(), config['payload'])
    except BaseException:
        pass


def _wand_run(config_b64):
    import sys
    if _wand_importing():
        # The main thread may be inside an import (a worker still starting): any module imported
        # here could be that half-initialised one (an AttributeError, or worse, later). So nothing
        # but built-in modules until the imports are over; then the main thread runs us again.
        waiting = sys.__dict__.setdefault('_wand_waiting', set())
        if config_b64 not in waiting:  # the agent queues us again every second meanwhile
            waiting.add(config_b64)
            import _thread
            _thread.start_new_thread(_wand_after_imports, (config_b64,))
        return
    import base64, json
    config = json.loads(base64.b64decode(config_b64).decode('utf-8'))
    channel = _WandChannel.connect(config['status'])
    if channel is None:
        _wand_forget(config)
        return
    sys_path0 = sys.path[0] if sys.path else None
    after, interrupted = None, False
    try:
        channel.send({'status': 'started'})
        if not channel.wait_for_go():
            _wand_forget(config)
            return
        if config['mode'] == 'inject' and _wand_importing():
            # A worker still starting: the main thread is inside an import, and importing
            # debugpy here would meet its half-initialised modules. A thread waits on their
            # module locks instead, and reports through the channel itself.
            import threading
            threading.Thread(target=_wand_inject_reporting, args=(config, channel, sys_path0),
                             name='wand-inject', daemon=True).start()
            channel = None
            return
        try:
            if config['mode'] == 'inject':
                after = _wand_inject(config, channel, sys_path0)
            else:
                interrupted = _wand_exec(config, channel)
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            _wand_report_failure(channel)
    finally:
        if channel is not None:
            channel.close()
    try:
        if after is not None:
            after()
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
    if interrupted:
        # A Ctrl-C meant for the application arrived while we ran: hand it back.
        import _thread
        _thread.interrupt_main()


try:
    _wand_run('__WAND_CONFIG__')
except BaseException:
    pass
'''


def render_payload(config):
    encoded = base64.b64encode(json.dumps(config).encode('utf-8')).decode('ascii')
    return PAYLOAD_TEMPLATE.replace("'__WAND_CONFIG__'", "'%s'" % encoded)


# ---------------------------------------------------------------------------------------------
# Injection core (shared by inject and exec)
# ---------------------------------------------------------------------------------------------


def exception_chain(exc):
    """An exception and its causes as INJECTOR_SOURCE writes them, for error_from_helper."""
    chain = []
    while exc is not None and len(chain) < 5:
        chain.append('%s: %s' % (type(exc).__name__, exc))
        exc = exc.__cause__ or exc.__context__
    return ' <- '.join(chain)


def can_inject_in_process(target):
    """True when sys.remote_exec here is what the injector would run: the same binary, and remote
    debugging enabled in the agent (own_interpreter() is None otherwise)."""
    return hasattr(sys, 'remote_exec') and own_answers(file_identity(target.exe_path)) is not None


def run_injector(target, payload_path):
    if can_inject_in_process(target):
        # saves starting an interpreter (~15-20 ms of CPU before the call)
        try:
            sys.remote_exec(target.pid, payload_path)
        except Exception as exc:
            raise error_from_helper(target.pid, exception_chain(exc), 'inject into')
        return
    try:
        proc = start_target_python(target.exe_path, INJECTOR_SOURCE, [target.pid, payload_path])
    except OSError as exc:
        raise AgentError('internal', 'could not run the interpreter of process %d: %s' % (target.pid, exc))
    code, _, err = finish_process(proc, HELPER_TIMEOUT_SECONDS)
    if code != 0:
        raise error_from_helper(target.pid, err, 'inject into')


class StatusChannel(object):
    """The agent's end of the Unix socket: accepts the payload's one connection, reads JSON lines."""

    def __init__(self, path, target):
        import socket
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        os.chmod(path, 0o600)
        give_to_target(path, target)
        self.listener.listen(1)
        self.conn = None
        self.buffer = b''
        #: the payload ran (it connected): nothing of ours is pending in the target any more
        self.connected = False

    def wait(self, timeout):
        """A decoded message, or None when `timeout` passed; raises EOFError if the peer closed."""
        line = self._pop_line()
        if line is not None:
            return line
        watched = self.conn if self.conn is not None else self.listener
        if not select.select([watched], [], [], max(0.0, timeout))[0]:
            return None
        if self.conn is None:
            self.conn, _ = self.listener.accept()
            self.connected = True
            self.close_listener()  # exactly one peer
            return None
        chunk = self.conn.recv(1 << 16)
        if not chunk:
            raise EOFError()
        self.buffer += chunk
        return self._pop_line()

    def _pop_line(self):
        if b'\n' not in self.buffer:
            return None
        line, self.buffer = self.buffer.split(b'\n', 1)
        return json.loads(line.decode('utf-8'))

    def reply(self, text):
        self.conn.sendall(text.encode('ascii') + b'\n')

    def close_listener(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            remove_quietly(self.path)

    def close(self):
        self.close_listener()
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def timeout_error(target, seconds, started):
    blocked = blocked_in(target.pid)
    if started:
        message = 'the injected code started in process %d but did not finish within %g s' % (target.pid, seconds)
    else:
        message = 'the main thread of process %d did not run the injected code within %g s' % (target.pid, seconds)
    if blocked:
        message += ': it is blocked in ' + blocked
    extra = {'blockedIn': blocked}
    stack = main_thread_stack_or_none(target)
    if stack:
        extra['stack'] = stack
    return AgentError('timeout', message, **extra)


def await_outcome(target, channel, timeout_seconds, rearm=None):
    """Wait for the payload: `waiting` every second until it starts, then its final message.

    Until the payload connects, `rearm()` runs every second: a call queued while the target's
    interpreter was still starting can be lost (seen with uvicorn's new reload workers, which then
    ran it on a second try at once). Queueing the same script again replaces the pending one; a
    run that started just before finds the agent gone when it connects and only forgets its files.
    """
    begun = time.monotonic()
    deadline = begun + timeout_seconds
    next_tick = begun + 1.0
    started = False
    run_seconds = timeout_seconds
    while True:
        now = time.monotonic()
        if now >= deadline:
            raise timeout_error(target, run_seconds if started else timeout_seconds, started)
        try:
            message = channel.wait(min(deadline, next_tick) - now)
        except EOFError:
            raise AgentError('injected-code-failed', 'the injected code in process %d stopped without '
                                                     'reporting (see its stderr)' % target.pid)
        if message is not None:
            if message.get('status') != 'started':
                return message
            if not started:
                started = True
                emit({'event': 'started', 'pid': target.pid})
                channel.reply('go')
                run_seconds = max(timeout_seconds, MIN_RUN_SECONDS)
                deadline = time.monotonic() + run_seconds
            continue
        if time.monotonic() >= next_tick:
            next_tick += 1.0
            if not process_exists(target.pid):
                raise AgentError('no-such-process', 'process %d exited while waiting' % target.pid)
            if not started:
                emit({'event': 'waiting', 'pid': target.pid, 'seconds': int(time.monotonic() - begun),
                      'blockedIn': blocked_in(target.pid)})
            if not channel.connected and rearm is not None:
                rearm()


class PayloadFiles(object):
    """The private directory of one injection, with the payload script and the status socket."""

    def __init__(self, workdir):
        self.dir = workdir
        self.payload = os.path.join(workdir, 'payload')
        self.status = os.path.join(workdir, 'status')
        self.channel = None
        #: sys.remote_exec may hold the payload's path: the target will open it when it gets to it
        self.handed_over = False
        self._lock = _thread.allocate_lock()
        self._removed = False

    def remove(self, target):
        """Remove our files, once. May run in the main thread while the request's thread still runs.

        A payload the target has not run yet is still pending in it: deleting it would make the
        target log "Can't open debugger script" when it wakes. So the pending path is first
        replaced with /dev/null (one pending script per thread: the newer call wins), which runs
        as an empty script. If that fails, the payload stays: when it runs it finds no agent and
        deletes its own files.
        """
        with self._lock:
            if self._removed:
                return
            self._removed = True
        remove_quietly(self.status)
        connected = self.channel is not None and self.channel.connected
        if self.handed_over and not connected and process_exists(target.pid):
            try:
                run_injector(target, os.devnull)
            except BaseException:
                return
        remove_quietly(self.payload)
        remove_quietly(self.dir, is_dir=True)


def run_payload(target, config, timeout_seconds, debugpy_zip_b64=None):
    """Inject the payload into `target` and return its final message (a dict with `status`)."""
    files = PayloadFiles(make_private_dir(target))
    with cleanup_after(lambda: files.remove(target)):
        if debugpy_zip_b64:
            config['debugpyPath'] = debugpy_copy(target, debugpy_zip_b64, os.path.dirname(files.dir))
        config.update({'status': files.status, 'payload': files.payload, 'dir': files.dir})
        try:
            files.channel = StatusChannel(files.status, target)
            fd = os.open(files.payload, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(render_payload(config))
            give_to_target(files.payload, target)
            files.handed_over = True
            try:
                run_injector(target, files.payload)
            except AgentError as exc:
                if not still_starting(target, exc):
                    files.handed_over = False
                    raise
            except BaseException:
                files.handed_over = False
                raise
            wake(target.pid)
            return await_outcome(target, files.channel, timeout_seconds, lambda: rearm(target, files.payload))
        finally:
            if files.channel is not None:
                files.channel.close()


#: a process younger than this whose main thread sys.remote_exec cannot find is still starting
STARTING_SECONDS = 10.0


def still_starting(target, error):
    """True when sys.remote_exec failed only because the target's interpreter is not running yet."""
    if "Can't find the main thread" not in error.message:
        return False
    stat = read_stat(target.pid)
    if stat is None:
        return False
    return read_uptime_seconds() - stat['starttime'] / float(os.sysconf('SC_CLK_TCK')) < STARTING_SECONDS


def rearm(target, payload_path):
    """Queue the payload again (it replaces itself: it still runs once) and wake the target."""
    try:
        run_injector(target, payload_path)
    except AgentError:
        return
    wake(target.pid)


def raise_payload_error(target, message):
    if message.get('status') == 'error':
        text = message.get('message') or 'the injected code failed'
        if message.get('traceback'):
            text += '\n' + message['traceback']
        code = message.get('code') if message.get('code') in ERROR_CODES else 'injected-code-failed'
        raise AgentError(code, text)
    raise AgentError('internal', 'unexpected message from the injected code in process %d: %r'
                     % (target.pid, message.get('status')))


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


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
    return {'op': 'stack', 'pid': pid, 'threads': read_stacks(target)}


OPERATIONS = {'list': op_list, 'inject': op_inject, 'exec': op_exec, 'stack': op_stack}


# ---------------------------------------------------------------------------------------------
# doctor (kubectl wand doctor): each fact that decides whether a process can be debugged, checked
# on its own (list stops at the first reason). Nothing runs in the target: debugpy is looked for
# by the target's own interpreter in a child process with the target's environment and cwd.
# ---------------------------------------------------------------------------------------------

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
             'remoteDebugDisabled': None, 'traceDenied': None, 'debugpy': None, 'writableDir': None,
             'debugpyPort': debugpy_ports.get(pid)}
    if stat is None or pid == os.getpid():
        return found
    facts = ProcessFacts(pid, stat)
    found.update(exists=True, isPython=facts.is_python,
                 traceDenied=ptrace_denial(facts.status, facts.environ is not None, caps))
    if facts.is_python:
        version, supported = probe_python('/proc/%d/exe' % pid)
        found.update(python=version, remoteDebugBuild=supported,
                     remoteDebugDisabled=remote_debug_disabled_reason(facts.environ, facts.flags, facts.xoptions),
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


OPERATIONS['doctor'] = op_doctor


def op_watch(request):
    pids = request.get('pids')
    if not isinstance(pids, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0
                                             for p in pids):
        raise AgentError('internal', "request field 'pids' must be a list of positive integers")
    return {'op': 'watch', 'pids': sorted(set(pids))}


SESSION_OPERATIONS = dict(OPERATIONS, watch=op_watch)


# ---------------------------------------------------------------------------------------------
# Session mode: following process exits
# ---------------------------------------------------------------------------------------------

#: without pidfds, how often a watched process is looked up in /proc
WATCH_POLL_SECONDS = 0.5
#: after a watched process exited: how often, and how long after the last exit, to read /proc
SCAN_INTERVAL_SECONDS = 0.05
SCAN_WINDOW_SECONDS = 15.0


def open_pidfd(pid):
    """A pidfd, readable once the process has exited; None without pidfds or when it is gone."""
    pidfd_open = getattr(os, 'pidfd_open', None)  # Python 3.9+
    if pidfd_open is None:
        return None
    try:
        return pidfd_open(pid)
    except OSError:  # ESRCH; ENOSYS or EPERM on old kernels and seccomp profiles
        return None


class ProcessWatch(object):
    """One watched process: its pidfd, or else what /proc polling compares."""

    def __init__(self, pid):
        self.pid = pid
        self.fd = open_pidfd(pid)
        stat = read_stat(pid) if self.fd is None else None
        self.starttime = stat['starttime'] if stat else None

    def exited(self):
        if self.fd is not None:
            return bool(select.select([self.fd], [], [], 0)[0])
        stat = read_stat(self.pid)
        # a zombie has exited; another start time means the pid was reused
        return stat is None or stat['state'] in 'ZX' or stat['starttime'] != self.starttime

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def process_signature():
    """The (pid, argv) pairs that list_processes() would report now: cheap to compare."""
    own_pid = os.getpid()
    signature = set()
    for pid in list_pids():
        stat = read_stat(pid)
        if pid != own_pid and stat is not None and stat['ppid'] != own_pid:
            signature.add((pid, tuple(redact_argv(read_cmdline(pid)))))
    return frozenset(signature)


def table_signature(records):
    return frozenset((r['pid'], tuple(r['argv'])) for r in records)


class Watcher(object):
    """A thread that waits for watched processes to exit, then follows the process table a while.

    Events carry the id of the `watch` request in force; the next `watch` replaces the set and
    ends the following of the previous one.
    """

    def __init__(self, emit_event):
        self.emit = emit_event
        self._lock = _thread.allocate_lock()
        # held to report: the watch's result goes out holding it, so no event of the old set follows
        self._gate = _thread.allocate_lock()
        self._replacement = None  # (request id, pids) from replace(), not yet taken by the thread
        self._wake_r, self._wake_w = os.pipe()
        self.request_id = None
        self.watches = {}
        self.scan_until = 0.0
        self.next_scan = 0.0
        self.signature = None

    def start(self):
        import threading
        thread = threading.Thread(target=self._run, name='wand-watch')
        thread.daemon = True
        thread.start()

    def replace(self, request_id, pids, announce):
        """Watch `pids` from now on; `announce()` emits the request's result, after which nothing is
        reported for the set it replaces."""
        with self._gate:
            with self._lock:
                self._replacement = (request_id, list(pids))
            announce()
        os.write(self._wake_w, b'.')

    def _replacing(self):
        with self._lock:
            return self._replacement is not None

    def _run(self):
        while True:
            try:
                self._wait(self._timeout())
                self._take_replacement()
                self._report_exits()
                if self.next_scan <= time.monotonic() < self.scan_until:
                    self._scan()
            except Exception:
                import traceback
                sys.stderr.write('kubectl-wand agent: watch failed:\n' + traceback.format_exc())
                time.sleep(WATCH_POLL_SECONDS)

    def _timeout(self):
        """None (wait for an exit or a new watch) unless following the table or polling /proc."""
        now = time.monotonic()
        if now < self.scan_until:
            return max(0.0, self.next_scan - now)
        if any(w.fd is None for w in self.watches.values()):
            return WATCH_POLL_SECONDS
        return None

    def _wait(self, timeout):
        fds = [self._wake_r] + [w.fd for w in self.watches.values() if w.fd is not None]
        if self._wake_r in select.select(fds, [], [], timeout)[0]:
            os.read(self._wake_r, 4096)

    def _take_replacement(self):
        with self._lock:
            replacement, self._replacement = self._replacement, None
        if replacement is None:
            return
        for watch in self.watches.values():
            watch.close()
        self.request_id, pids = replacement
        self.watches = dict((pid, ProcessWatch(pid)) for pid in pids)
        self.scan_until = 0.0

    def _report_exits(self):
        with self._gate:
            if self._replacing():
                return  # these pids are no longer watched: the next loop takes the new set
            gone = sorted(pid for pid, watch in self.watches.items() if watch.exited())
            if not gone:
                return
            for pid in gone:
                self.watches.pop(pid).close()
            self.emit({'event': 'exited', 'id': self.request_id, 'pids': gone})
        now = time.monotonic()
        self.scan_until = now + SCAN_WINDOW_SECONDS
        self.next_scan = now
        self.signature = None  # report the table at once

    def _scan(self):
        self.next_scan = time.monotonic() + SCAN_INTERVAL_SECONDS
        if process_signature() == self.signature:
            return
        # Compared with what was reported, not with what was scanned: the table may change while
        # the records are read.
        processes = list_processes(0)['processes']
        signature = table_signature(processes)
        with self._gate:
            if signature != self.signature and not self._replacing():
                self.signature = signature
                self.emit({'event': 'processes', 'id': self.request_id, 'processes': processes})


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _exit_on_signal(signum, frame):
    # turn SIGTERM/SIGHUP into an exception so that `finally` blocks remove our files
    raise SystemExit(128 + signum)


def error_event(exc):
    event = {'event': 'error', 'code': exc.code, 'message': exc.message}
    event.update((k, v) for k, v in exc.extra.items() if v is not None)
    return event


def final_event(operation, request):
    """The last event of a request: its result, or the error that ended it."""
    try:
        return {'event': 'result', 'result': operation(request)}
    except AgentError as exc:
        return error_event(exc)
    except Exception as exc:
        import traceback
        return {'event': 'error', 'code': 'internal',
                'message': 'agent failure: %s: %s\n%s' % (type(exc).__name__, exc, traceback.format_exc())}


def checked_operation(request, operations):
    if not isinstance(request, dict) or request.get('op') not in operations:
        raise AgentError('internal', 'unknown operation: %r' % (request.get('op') if isinstance(request, dict) else request))
    return request['op']


def decode_request(request_b64):
    try:
        request = json.loads(base64.b64decode(request_b64).decode('utf-8'))
    except (ValueError, TypeError) as exc:
        raise AgentError('internal', 'malformed request: %s' % exc)
    checked_operation(request, OPERATIONS)
    return request


def main(request_b64):
    """One-shot mode: one request, then exit 0 after a result and 1 after an error."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    try:
        request = decode_request(request_b64)
    except AgentError as exc:
        event = error_event(exc)
    else:
        event = final_event(OPERATIONS[request['op']], request)
    emit(event)
    sys.exit(0 if event['event'] == 'result' else 1)


def serve():
    """Session mode (see the module docstring): serves request lines until stdin ends or a signal."""
    global _serving
    _serving = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    watcher = Watcher(emit)
    watcher.start()
    try:
        emit({'event': 'ready', 'id': 0, 'agentPython': python_version(), 'pid': os.getpid(),
              'hostname': os.uname().nodename})
        for line in iter(sys.stdin.buffer.readline, b''):
            if line.strip():
                dispatch(line, watcher)
    except SystemExit:
        pass
    finally:
        run_pending_cleanups()
    # Not sys.exit(): request threads may be blocked in I/O or hold stdout's lock, and interpreter
    # shutdown with daemon threads like that can hang or abort.
    os._exit(0)


def dispatch(line, watcher):
    """Start one request: `watch` at once, any other operation in a thread of its own."""
    request_id = None
    try:
        request = parse_request_line(line)
        request_id = session_request_id(request)
        op = checked_operation(request, SESSION_OPERATIONS)
    except AgentError as exc:
        emit(dict(error_event(exc), id=request_id))
        return
    if op == 'watch':
        event = dict(final_event(op_watch, request), id=request_id)
        if event['event'] == 'result':
            watcher.replace(request_id, event['result']['pids'], lambda: emit(event))
        else:
            emit(event)
        return
    import threading
    thread = threading.Thread(target=serve_request, args=(request_id, request), name='wand-request-%d' % request_id)
    thread.daemon = True
    thread.start()


def parse_request_line(line):
    try:
        return json.loads(line.decode('utf-8'))
    except ValueError as exc:
        raise AgentError('internal', 'malformed request: %s' % exc)


def session_request_id(request):
    request_id = request.get('id') if isinstance(request, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id < 1:
        raise AgentError('internal', "malformed request: 'id' must be a positive integer")
    return request_id


def serve_request(request_id, request):
    _request.id = request_id
    emit(final_event(OPERATIONS[request['op']], request))
