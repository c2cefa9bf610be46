"""Session mode: following process exits (watch) with pidfds, then the process table a while."""

import _thread
import os
import select
import sys
import time

from .events import AgentError
from .listing import list_processes, redact_argv
from .procfs import list_pids, read_cmdline, read_stat


def op_watch(request):
    pids = request.get('pids')
    if not isinstance(pids, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0
                                             for p in pids):
        raise AgentError('internal', "request field 'pids' must be a list of positive integers")
    return {'op': 'watch', 'pids': sorted(set(pids))}


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
