"""Ending what a session injected: this agent's session identity, the processes it made listen,
and the fallback when a target's main thread never runs the close (see in_target/listener.py)."""

import os
import signal
import time

from .procfs import list_pids, read_cmdline, read_stat
from .sockets import TCP_LISTEN, debugpy_adapters, read_tcp_sockets, socket_inodes

#: how long the agent waits for an adapter it signalled to exit
ADAPTER_KILL_SECONDS = 1.0
#: at the end of stdin the closes get this long in all (a pod's exec is torn down soon after)
CLOSE_ON_EOF_SECONDS = 2.5

#: pid -> start time of every process this agent injected and has not closed yet
_injected = {}


def agent_identity():
    """(session id, pid, start time): one agent is one session; the target forgets a session whose
    agent process is gone (a CLI killed without a goodbye)."""
    pid = os.getpid()
    stat = read_stat(pid)
    start = stat['starttime'] if stat else None
    return 'agent-%d-%s' % (pid, start), pid, start


def note_injected(pid):
    stat = read_stat(pid)
    _injected[pid] = stat['starttime'] if stat else None


def note_closed(pid):
    _injected.pop(pid, None)


def injected_pids():
    """The injected processes still alive (the same process: a reused PID does not count)."""
    alive = []
    for pid, start in list(_injected.items()):
        stat = read_stat(pid)
        if stat is not None and (start is None or stat['starttime'] == start):
            alive.append(pid)
        else:
            _injected.pop(pid, None)
    return sorted(alive)


def adapters_listening_on(port):
    """PIDs of the debugpy adapters that listen for editors on `port` (this network namespace)."""
    argv_by_pid = dict((p, read_cmdline(p)) for p in list_pids())
    listening = set(e['inode'] for e in read_tcp_sockets() if e['state'] == TCP_LISTEN and e['local'][1] == port)
    return sorted(pid for pid, client_port in debugpy_adapters(argv_by_pid).items()
                  if client_port == port and socket_inodes(pid) & listening)


def kill_adapters(port):
    """Ends the adapters serving `port` (SIGTERM, then SIGKILL). Returns 'none', 'killed' or 'alive'.

    The fallback when the target's main thread never ran the close: editors can no longer attach,
    but pydevd stays in the process (tracing on) until the next injection closes or reuses it."""
    pids = adapters_listening_on(port)
    if not pids:
        return 'none'
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, signum)
            except OSError:
                pass
        deadline = time.monotonic() + ADAPTER_KILL_SECONDS
        while time.monotonic() < deadline:
            if not any(_alive(pid) for pid in pids):
                return 'killed'
            time.sleep(0.02)
    return 'alive' if any(_alive(pid) for pid in pids) else 'killed'


def _alive(pid):
    stat = read_stat(pid)
    return stat is not None and stat['state'] not in ('Z', 'X')
