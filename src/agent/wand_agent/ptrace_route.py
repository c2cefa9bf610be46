"""inject and exec into CPython 3.9-3.13 on x86_64: the payload queued by the ptrace injector
instead of sys.remote_exec, one injection at a time per process.

The payload's source goes into the target's memory (no file to open), runs in the main thread at a
safe point, and reports through the status socket exactly as after sys.remote_exec. What the
injector does to the process: ptrace_inject.md.
"""

import _thread
import time

from .events import AgentError
from .ptrace_inject import Injection
from .ptrace_process import InjectError

#: how long to retry while another tracer (another kubectl-wand agent injecting) holds the process
OTHER_TRACER_SECONDS = 2.0

_pid_locks = {}
_pid_locks_guard = _thread.allocate_lock()
#: injections whose code still ran when their request ended (a payload holding the main thread in
#: debugpy.wait_for_client): their pages are unmapped by a later request, once the code is done
_unfreed = []
#: requests run in parallel threads (the closes of a pool's workers): one of them takes each entry
_unfreed_guard = _thread.allocate_lock()


def pid_lock(pid):
    """The lock that serialises the injector's stops of one process within this agent (the kernel
    allows one tracer: a second one would see EPERM)."""
    with _pid_locks_guard:
        return _pid_locks.setdefault(pid, _thread.allocate_lock())


def agent_error(exc):
    """InjectError -> AgentError: the injector's codes are the agent's (contract.py)."""
    return AgentError(exc.code, exc.message)


def free_finished():
    """Unmap the pages of earlier injections whose code has ended since."""
    with _unfreed_guard:
        ended = [(i, i.state()) for i in _unfreed]
        ended = [(i, state) for i, state in ended if state in ('done', 'skipped', 'unknown')]
        for injection, _ in ended:
            _unfreed.remove(injection)
    for injection, state in ended:
        if state != 'unknown':
            with pid_lock(injection.pid):
                injection.free()


class PtraceQueue(object):
    """Queues one payload source in one process; `queue` again when the last run returned without
    reaching the agent (the main thread was inside an import: sys.remote_exec is not there for the
    payload to re-queue itself, so the agent does); `forget` at the end of the request."""

    def __init__(self, pid, source, timeout_seconds):
        self.pid = pid
        self.source = source
        self.deadline = time.monotonic() + timeout_seconds
        self.injections = []

    def queue(self):
        """Queue the payload; AgentError when the injector refuses or fails (the process restored)."""
        free_finished()
        injection = Injection(self.pid, self.source)
        other_tracer_until = time.monotonic() + OTHER_TRACER_SECONDS
        while True:
            try:
                with pid_lock(self.pid):
                    injection.launch(self.deadline)
                break
            except InjectError as exc:
                if injection.page is not None:
                    self.injections.append(injection)
                if not (exc.code == 'permission-denied' and 'already traced' in exc.message
                        and time.monotonic() < other_tracer_until):
                    raise agent_error(exc)
                time.sleep(0.05)
        self.injections.append(injection)

    def rearm(self):
        """Queue again if the payload's last run is over and the agent still waits (called every
        second until the payload connects). A run still queued is left alone: it runs once."""
        if self.injections and self.injections[-1].state() not in ('done', 'skipped'):
            return
        try:
            self.queue()
        except AgentError:
            return

    def forget(self):
        """The request is over: no queued run may start any more; pages of finished runs are unmapped,
        the others later (free_finished)."""
        for injection in self.injections:
            if injection.state() == 'queued':
                injection.disarm()
            state = injection.state()
            if state in ('done', 'skipped'):
                with pid_lock(self.pid):
                    injection.free()
            elif state == 'running':
                with _unfreed_guard:
                    _unfreed.append(injection)
