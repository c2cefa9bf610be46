"""Closing the debugpy listener kubectl-wand opened in a live process, and opening it again.

Runs inside the target, on its main thread, through the injected payload (sys.remote_exec): stdlib
only, imports nothing of debugpy (it uses the modules the process already has), and never raises
into the application — every function returns a plain dict report.

debugpy has no public "stop listening". What debugpy.listen() leaves in a process, and how each
piece is undone here (read in debugpy 1.8.20 as shipped in the test images, verified by
test/unit/agent/test_listener.py against Python 3.14 in those images):

* an adapter subprocess (`python .../debugpy/adapter --for-server N --host H --port P
  --server-access-token T`), double-forked so that it is reparented to the container's PID 1,
  listening on H:P for editors and on a random loopback port for pydevd. It exits by itself once
  its pydevd connection closes and its sessions end (adapter/__main__.py main():
  servers.wait_until_disconnected(), sessions.wait_until_ended()). It is found by the token T,
  which pydevd holds as `PyDB.authentication.access_token`, recorded by note_listening(); if it is
  still there after ADAPTER_EXIT_SECONDS it gets SIGTERM, then SIGKILL (checked again by token
  first, so a reused PID is never signalled).
* pydevd's debugger (`_pydevd_bundle.pydevd_constants.GlobalDebuggerHolder.global_dbg`, a PyDB)
  with its threads (pydevd.Reader/Writer/CommandThread/CheckAliveThread) and its connection to the
  adapter, and tracing: on 3.12+ pydevd uses sys.monitoring (tool DEBUGGER_ID named "pydevd",
  PYDEVD_USE_SYS_MONITORING), before that sys.settrace/threading.settrace; plus threading's
  start_new_thread patched (pydev_monkey.patch_thread_modules). The close first does what pydevd
  does on an editor's "disconnect" with terminateDebuggee false
  (PyDevdAPI.request_disconnect(py_db, resume_threads=True): breakpoints and exception breakpoints
  removed, every thread set to run), then `pydevd.stoptrace()`: stop_monitoring(all_threads=True)
  (set_events 0, callbacks None, free_tool_id) or settrace(None), undo_patch_thread_modules(), then
  PyDB.dispose_and_kill_all_pydevd_threads(), which kills the threads, closes the socket to the
  adapter (so the adapter ends) and unregisters the global debugger (it waits up to 0.5 s for its
  threads: most of the close's time). A thread held at a breakpoint leaves its wait loop
  (PyDB._do_wait_suspend) and the request it serves completes; also when the close itself runs
  inside that loop on the main thread (a request held on a gunicorn-sync-like main thread:
  sys.remote_exec runs there between pydevd's waits). A disposed PyDB lets threads out of the loop
  without resetting their state, and the next PyDB would stop them at once: so
  pydevd_thread_lifecycle.resume_threads('*') follows. A resumed thread may re-take the monitoring
  tool on its way out (_ensure_monitoring() in _enable_line_tracing): once none is in the wait loop
  any more, stop_monitoring runs again if needed.
* `sys.breakpointhook`, set at debugpy's import to debugpy_breakpointhook (force_pydevd.py; a
  no-op while no editor is attached): put back to sys.__breakpointhook__, as before the first
  session, and reinstalled by prepare_listen().
* `debugpy.server.api.listen.called = True`, which makes a second listen() raise ("has already
  been called on this process"), and `pydevd.SetupHolder.setup` (the old session's port and
  token): both reset, so that a later injection's debugpy.listen() starts a fresh adapter and PyDB.
  Also pydevd's atexit registration of stoptrace (one per PyDB) is dropped; the next PyDB adds one.

Measured (test_listener.py, 2 shared cores): a close takes ~1.05 s (0.5 s pydevd's dispose, 0.5 s
the adapter's grace: with an editor still attached it sends "terminated" and waits for that
editor, so it gets SIGTERM); 20 cycles against one process leave its thread and fd counts constant
(the fd opened once by ctypes' libffi at pydevd's import stays) and grow its RSS ~60-100 KiB per
cycle after the first (+18 MiB: debugpy imported), flattening over 60 cycles. The exited adapter
is reparented to PID 1 and stays a zombie if PID 1 reaps no orphans (as today after any adapter
exit).

Every internal above is checked before anything is changed; when one is missing (another debugpy)
nothing is touched and the report says what is missing ('fallback'): the listener stays as it
was, which is today's behaviour. After the close the outcome is checked (no pydevd thread, no
monitoring tool, no global debugger, no adapter, nothing listening on the port) and reported.

Ownership and sessions (issue 15 items 3 and 4), kept in the target as `sys._wand_listener`:
a listener kubectl-wand opened (note_listening) or an older kubectl-wand opened (`sys._wand_debugpy`)
is ours; one the application opened itself is reused and never closed. Each session that attaches
joins (join) with its agent's PID and start time; leave() closes the listener when the last live
session leaves, unless that session keeps it (--keep-listening). Sessions whose agent process is
gone (a killed CLI) no longer count.
"""

import os
import sys
import threading
import time

VERIFIED_DEBUGPY = '1.8.20'
STATE_ATTR = '_wand_listener'
LEGACY_ATTR = '_wand_debugpy'  # (host, port) set by the payload of kubectl-wand <= session 2

ADAPTER_EXIT_SECONDS = 0.5
SIGNAL_EXIT_SECONDS = 1.0
RESUME_SECONDS = 2.0
PYDEVD_THREAD_PREFIX = 'pydevd.'
#: (module, name) of the sys.breakpointhook debugpy installs at import, and of pydevd's own
DEBUGGER_HOOKS = (('debugpy._vendored.force_pydevd', 'debugpy_breakpointhook'), ('pydevd', 'pydevd_breakpointhook'))
STATE_SUSPEND = 2  # _pydevd_bundle.pydevd_constants.STATE_SUSPEND


# ---------------------------------------------------------------------------------------------
# State kept in the target
# ---------------------------------------------------------------------------------------------

def _state():
    state = sys.__dict__.get(STATE_ATTR)
    if not isinstance(state, dict):
        state = {'port': None, 'host': None, 'adapter': None, 'sessions': {}}
        setattr(sys, STATE_ATTR, state)
    return state


def _debugpy_api():
    return sys.modules.get('debugpy.server.api')


def _listen_called():
    api = _debugpy_api()
    return bool(getattr(getattr(api, 'listen', None), 'called', False))


def owner():
    """'none' (debugpy.listen() not in effect), 'wand' (we opened it) or 'app' (the app did)."""
    if not _listen_called():
        return 'none'
    state = sys.__dict__.get(STATE_ATTR)
    if isinstance(state, dict) and state.get('port') is not None:
        return 'wand'
    if sys.__dict__.get(LEGACY_ATTR):
        return 'wand'
    return 'app'


def _debugpy_version():
    return str(getattr(sys.modules.get('debugpy'), '__version__', '?'))


# ---------------------------------------------------------------------------------------------
# /proc helpers (the target's own view: its PID namespace and network namespace)
# ---------------------------------------------------------------------------------------------

def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return [a.decode('utf-8', 'replace') for a in f.read().split(b'\0') if a]
    except OSError:
        return None


def _stat_fields(pid):
    """(state letter, start time in clock ticks) of a process, or None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(')') + 2:].split()
    return fields[0], int(fields[19])


def _running(pid, start=None):
    """True while `pid` is a live (not zombie) process, started at `start` if given."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ('Z', 'X'):
        return False
    return start is None or fields[1] == start


def _option(argv, name):
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _is_adapter_with_token(argv, token):
    return bool(argv) and token is not None and '--for-server' in argv and \
        _option(argv, '--server-access-token') == token


def _find_adapter(token):
    """{'pid', 'start', 'port'} of the debugpy adapter started with this server access token."""
    if not token:
        return None
    try:
        names = os.listdir('/proc')
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        pid = int(name)
        argv = _cmdline(pid)
        if _is_adapter_with_token(argv, token):
            fields = _stat_fields(pid)
            try:
                port = int(_option(argv, '--port'))
            except (TypeError, ValueError):
                port = None
            return {'pid': pid, 'start': fields[1] if fields else None, 'port': port}
    return None


def _listening_ports():
    """Local ports in LISTEN state in this network namespace (/proc/net/tcp and tcp6)."""
    ports = set()
    for path in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == '0A':  # TCP_LISTEN
                ports.add(int(parts[1].rsplit(':', 1)[1], 16))
    return ports


def _wait_until(predicate, seconds, interval=0.02):
    deadline = time.monotonic() + seconds
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# debugpy / pydevd internals
# ---------------------------------------------------------------------------------------------

class _Internals(object):
    """The debugpy 1.8.20 internals the close relies on, looked up without importing anything."""

    def __init__(self):
        self.api = _debugpy_api()
        self.pydevd = sys.modules.get('pydevd')
        self.constants = sys.modules.get('_pydevd_bundle.pydevd_constants')
        self.monitoring = sys.modules.get('_pydevd_sys_monitoring.pydevd_sys_monitoring')
        self.pydevd_api = sys.modules.get('_pydevd_bundle.pydevd_api')
        self.lifecycle = sys.modules.get('_pydevd_bundle.pydevd_thread_lifecycle')

    def missing(self):
        """What is missing for the close, or None when everything is there."""
        needs = (
            (self.api, 'listen', 'debugpy.server.api.listen'),
            (getattr(self.api, 'listen', None), 'called', 'debugpy.server.api.listen.called'),
            (self.pydevd, 'stoptrace', 'pydevd.stoptrace'),
            (self.pydevd, 'SetupHolder', 'pydevd.SetupHolder'),
            (self.pydevd_api, 'PyDevdAPI', 'pydevd_api.PyDevdAPI'),
            (getattr(self.pydevd_api, 'PyDevdAPI', None), 'request_disconnect', 'PyDevdAPI.request_disconnect'),
            (self.lifecycle, 'resume_threads', 'pydevd_thread_lifecycle.resume_threads'),
            (self.constants, 'get_global_debugger', 'pydevd_constants.get_global_debugger'),
            (self.constants, 'PYDEVD_USE_SYS_MONITORING', 'pydevd_constants.PYDEVD_USE_SYS_MONITORING'),
        )
        for owner_object, attribute, name in needs:
            if owner_object is None or not hasattr(owner_object, attribute):
                return name
        if self.constants.PYDEVD_USE_SYS_MONITORING and not hasattr(self.monitoring, 'stop_monitoring'):
            return 'pydevd_sys_monitoring.stop_monitoring'
        debugger = self.debugger()
        if debugger is not None:
            for attribute in ('dispose_and_kill_all_pydevd_threads', 'authentication', 'pydb_disposed'):
                if not hasattr(debugger, attribute):
                    return 'PyDB.' + attribute
        return None

    def debugger(self):
        try:
            return self.constants.get_global_debugger()
        except Exception:
            return None

    def access_token(self):
        return getattr(getattr(self.debugger(), 'authentication', None), 'access_token', None)

    def uses_monitoring(self):
        return bool(getattr(self.constants, 'PYDEVD_USE_SYS_MONITORING', False))

    @staticmethod
    def is_debugger_hook(hook):
        return (getattr(hook, '__module__', None), getattr(hook, '__name__', None)) in DEBUGGER_HOOKS


def _monitoring_tool():
    monitoring = getattr(sys, 'monitoring', None)
    if monitoring is None:
        return None
    try:
        return monitoring.get_tool(monitoring.DEBUGGER_ID)
    except Exception:
        return None


def _pydevd_threads():
    return sorted(t.name for t in threading.enumerate()
                  if t.is_alive() and t.name.startswith(PYDEVD_THREAD_PREFIX))


def _suspended_threads():
    """Application threads held at a breakpoint (pydevd's additional_info.pydev_state)."""
    held = []
    for thread in threading.enumerate():
        info = getattr(thread, 'additional_info', None)
        if getattr(info, 'pydev_state', None) == STATE_SUSPEND and thread.is_alive():
            held.append(thread.ident)
    return held


def _threads_in_wait_loop():
    """Other threads still inside pydevd's suspend loop (PyDBAdditionalThreadInfo.is_in_wait_loop).

    The current thread is left out: the close may run inside that loop on the main thread."""
    current = threading.get_ident()
    return [t.ident for t in threading.enumerate() if t.ident != current and t.is_alive()
            and getattr(getattr(t, 'additional_info', None), 'is_in_wait_loop', False)]


def _threading_trace_hook():
    # threading.gettrace() is 3.10+; before, the hook lives in threading._trace_hook
    gettrace = getattr(threading, 'gettrace', None)
    return gettrace() if gettrace else getattr(threading, '_trace_hook', None)


def tracing_state():
    """What of a debugger is active in this process right now (for the reports and the tests)."""
    internals = _Internals()
    return {
        'monitoringTool': _monitoring_tool(),
        'settrace': sys.gettrace() is not None,
        'threadingSettrace': _threading_trace_hook() is not None,
        'globalDebugger': internals.debugger() is not None if internals.constants else False,
        'pydevdThreads': _pydevd_threads(),
        'breakpointhookIsDebugger': internals.is_debugger_hook(sys.breakpointhook),
        'listenCalled': _listen_called(),
        'threads': threading.active_count(),
    }


# ---------------------------------------------------------------------------------------------
# Public operations
# ---------------------------------------------------------------------------------------------

def prepare_listen():
    """Before debugpy.listen() in a process whose listener we closed: debugpy's breakpoint hook back.

    (listen.called and SetupHolder were reset by the close itself.) Returns a report."""
    try:
        state = _state()
        hook = state.pop('hook', None)
        if hook is not None and sys.breakpointhook is sys.__breakpointhook__:
            sys.breakpointhook = hook
            return {'prepared': True, 'breakpointhook': 'reinstalled'}
        return {'prepared': True}
    except Exception as exc:
        return {'prepared': False, 'reason': '%s: %s' % (type(exc).__name__, exc)}


def note_listening(host, port):
    """After our debugpy.listen() returned: remember the listener and its adapter as ours."""
    try:
        state = _state()
        state['host'], state['port'] = host, port
        adapter = _find_adapter(_Internals().access_token())
        state['adapter'] = adapter
        return {'noted': True, 'adapterPid': adapter and adapter['pid']}
    except Exception as exc:
        return {'noted': False, 'reason': '%s: %s' % (type(exc).__name__, exc)}


def join(session, agent_pid=None, agent_start=None):
    """A session attaches (after listen or reuse). Returns how many other live sessions hold it."""
    try:
        sessions = _state()['sessions']
        _prune(sessions)
        others = len([s for s in sessions if s != session])
        sessions[session] = {'pid': agent_pid, 'start': agent_start, 'since': time.time()}
        return {'joined': True, 'otherSessions': others, 'owner': owner()}
    except Exception as exc:
        return {'joined': False, 'reason': '%s: %s' % (type(exc).__name__, exc)}


def _prune(sessions):
    """Drop sessions whose agent process is gone (a CLI killed without a goodbye)."""
    for name, holder in list(sessions.items()):
        pid = holder.get('pid')
        if pid is not None and not _running(pid, holder.get('start')):
            del sessions[name]


def opening(flag):
    """Our debugpy.listen() runs (True) or returned (False): see leave()."""
    _state()['opening'] = bool(flag)


def leave(session, keep=False):
    """A session ends: close the listener if it was the last live one, unless keep is asked.

    A close can run while our debugpy.listen() has not returned yet: the injection reports once
    the adapter listens, and a queued script runs at the main thread's next eval-breaker check,
    which may be inside listen() (pydevd connecting). Then nothing is touched ('opening': debugpy
    does not mark itself listening until listen() returns), and the agent asks again."""
    try:
        if _state().get('opening'):
            return {'closed': False, 'reason': 'opening'}
        sessions = _state()['sessions']
        sessions.pop(session, None)
        _prune(sessions)
        who = owner()
        if who == 'app':
            return {'closed': False, 'reason': 'app-listener', 'owner': who}
        if who == 'none' and not _adapter_pids_alive():
            return {'closed': True, 'reason': 'not-listening', 'owner': who}
        if keep:
            return {'closed': False, 'reason': 'keep-listening', 'port': _state().get('port')}
        if sessions:
            return {'closed': False, 'reason': 'other-sessions', 'otherSessions': len(sessions),
                    'port': _state().get('port')}
        return close_listener()
    except Exception as exc:
        return {'closed': False, 'reason': 'error', 'error': '%s: %s' % (type(exc).__name__, exc)}


def _adapter_pids_alive():
    adapter = _state().get('adapter')
    return bool(adapter) and _running(adapter['pid'], adapter.get('start'))


def close_listener():
    """Stop accepting debuggers: adapter gone, tracing off, pydevd's threads gone, held threads
    resumed, listen() possible again. Never raises; returns a report (see the module docstring)."""
    report = {'closed': False, 'debugpyVersion': _debugpy_version(), 'verifiedWith': VERIFIED_DEBUGPY}
    begun = time.monotonic()
    try:
        _close(report)
    except Exception as exc:  # never into the application
        report['reason'] = 'error'
        report['error'] = '%s: %s' % (type(exc).__name__, exc)
    report['seconds'] = round(time.monotonic() - begun, 3)
    return report


def _close(report):
    state = _state()
    internals = _Internals()
    report['owner'] = who = owner()
    if who == 'app':
        report['reason'] = 'app-listener'
        return
    if internals.api is None:
        report.update(closed=True, reason='not-listening')
        return
    missing = internals.missing()
    if missing:
        report['reason'] = 'fallback'
        report['fallback'] = ('debugpy %s lacks %s (verified with %s): the listener is left as it was'
                              % (report['debugpyVersion'], missing, VERIFIED_DEBUGPY))
        return

    adapter = _find_adapter(internals.access_token()) or state.get('adapter')
    report['port'] = (adapter or {}).get('port') or state.get('port')
    report['adapterPid'] = adapter and adapter['pid']
    held = _suspended_threads()
    report['resumedThreads'] = len(held)

    begun = time.monotonic()
    debugger = internals.debugger()
    if debugger is not None and not debugger.pydb_disposed:
        # what pydevd does on an editor's "disconnect" (terminateDebuggee false): breakpoints and
        # exception breakpoints removed, every thread set to run
        internals.pydevd_api.PyDevdAPI().request_disconnect(debugger, resume_threads=True)
    internals.pydevd.stoptrace()
    # a thread a disposed PyDB let out of its wait loop still says "suspended", and the next PyDB
    # would stop it at once: set every thread to run (again: one may have stopped meanwhile)
    internals.lifecycle.resume_threads('*')
    _forget_listen(internals, state)
    report['stoptraceSeconds'] = round(time.monotonic() - begun, 3)
    # resumed threads may re-take the monitoring tool on their way out of pydevd: once none is
    # in its wait loop any more, stop monitoring again (a no-op when the tool is free)
    _wait_until(lambda: not _threads_in_wait_loop(), RESUME_SECONDS)
    report['stillHeld'] = len(_threads_in_wait_loop())
    if internals.uses_monitoring() and _monitoring_tool() == 'pydevd':
        internals.monitoring.stop_monitoring(all_threads=True)
        report['monitoringRetaken'] = True

    begun = time.monotonic()
    report['adapter'] = _end_adapter(adapter)
    report['adapterSeconds'] = round(time.monotonic() - begun, 3)
    state['adapter'] = None
    port = report['port']
    if port is not None:
        _wait_until(lambda: port not in _listening_ports(), SIGNAL_EXIT_SECONDS)
    report['after'] = after = tracing_state()
    report['stillListening'] = port is not None and port in _listening_ports()
    clean = (after['monitoringTool'] is None and not after['settrace'] and not after['threadingSettrace']
             and not after['globalDebugger'] and not after['pydevdThreads']
             and report['adapter'] in ('exited', 'terminated', 'killed', 'none')
             and not report['stillListening'])
    report['closed'] = clean
    if not clean:
        report['reason'] = 'incomplete'
    state['port'] = state['host'] = None
    sys.__dict__.pop(LEGACY_ATTR, None)


def _forget_listen(internals, state):
    """Make a later debugpy.listen() start afresh; leave no hook pointing at the gone debugger."""
    internals.api.listen.called = False
    internals.pydevd.SetupHolder.setup = None
    if internals.is_debugger_hook(sys.breakpointhook):
        state['hook'] = sys.breakpointhook
        sys.breakpointhook = sys.__breakpointhook__
    try:
        import atexit
        atexit.unregister(internals.pydevd.stoptrace)
    except Exception:
        pass


def _end_adapter(adapter):
    """'none', 'exited' (by itself), 'terminated', 'killed' or 'alive' (could not end it)."""
    if not adapter:
        return 'none'
    pid, start = adapter['pid'], adapter.get('start')
    if _wait_until(lambda: not _running(pid, start), ADAPTER_EXIT_SECONDS):
        return 'exited'
    import signal
    for signum, outcome in ((signal.SIGTERM, 'terminated'), (signal.SIGKILL, 'killed')):
        if not _running(pid, start):
            return 'exited'
        try:
            os.kill(pid, signum)
        except OSError:
            return 'alive' if _running(pid, start) else 'exited'
        if _wait_until(lambda: not _running(pid, start), SIGNAL_EXIT_SECONDS):
            return outcome
    return 'alive'
