"""Run Python code in the main thread of a live CPython 3.9-3.13 process on x86_64 Linux.

No sys.remote_exec (3.14+), gdb or compiler: ptrace and process memory only. What it does to the
process and what it risks: ptrace_inject.md next to this file.

    report = run_in_main_thread(pid, "exec(open('/tmp/wand-x/payload').read())", 10.0)
    report['ok'], report['code'], report['message'], report['route'], ...

or, to answer a payload's handshake while it runs, ``Injection(pid, code)`` with ``start``,
``wait`` and ``free``. Every failure is an ``InjectError`` with a machine-readable ``code`` (the
agent's codes plus 'unsupported-arch', 'unsupported-python', 'not-ready').

Python 3.9+, standard library only (ctypes, loading libc only). All ptrace requests of one
injection come from the thread that calls ``start``/``free``.
"""

import _thread
import os
import struct
import time

from .ptrace_process import (DIRECT_SYSCALLS, EINTR, EINTR_SYSCALLS, ERESTART_RESTARTBLOCK, ERESTARTNOHAND,
                             ERESTARTNOINTR, ERESTARTSYS, SYS_MMAP, SYS_MUNMAP, SYS_SIGALTSTACK,
                             InjectError, check_target, read_proc, sigblk, syscall_name, target_of)
from .ptrace_x86 import (RED_ZONE, U64, CallAborted, CallCrashed, PtraceError, TargetGone, Tracee, WaitTimeout,
                         signal_frame, signed)

HEADER = 4096            # status bytes, then the error text; the source follows
STATUS_SIZE = 8
ALTSTACK_AT = 3584       # where sigaltstack() writes the current alternate stack
ERROR_AT = 16
ERROR_MAX = 3000
PROT_RW = 3
MAP_PRIVATE_ANON = 0x22
SS_ONSTACK = 1


# The code PyRun_SimpleString runs in __main__: binds no name there and can raise nothing.
TOP_SOURCE = ("try:\n"
              "    __import__('builtins').exec(%s, {'__name__': '__wand_ptrace__', '_A': %s, '_C': %s})\n"
              "except BaseException:\n"
              "    pass\n")
# Its status goes to our page through /proc/self/mem: byte 0 is ours ('A' armed, 'D' disarmed);
# the wrapper writes 1 'S' (about to start), 2 'R' (runs) or 'X' (disarmed: skipped), 3 'F'
# (finished) or 'E' (raised, text at ERROR_AT), 4 'M' (main thread), 'T' or '?' (unknown: threading
# half-imported before 3.13). Once it wrote 'R' it ends with 'F' or 'E', so that a run cut short is
# queued again. Checking byte 0 after writing byte 1 (and our re-reading byte 1 after writing
# byte 0) means a disarmed payload never runs unseen.
WRAPPER_SOURCE = r'''
def _thread_mark():
    # threading may be half-way through its own import here (a new worker starting): only
    # built-in modules, and a module's attributes only if they are already there
    import sys, _thread
    main_ident = getattr(_thread, '_get_main_thread_ident', None)
    if main_ident is not None:
        main = main_ident()
    else:
        main = getattr(getattr(sys.modules.get('threading'), '_main_thread', None), 'ident', None)
    if main is None:
        return b'?'
    return b'M' if main == _thread.get_ident() else b'T'
def _run():
    try:
        mem = open('/proc/self/mem', 'r+b', buffering=0)
    except BaseException:
        return
    def put(offset, data):
        mem.seek(_A + offset)
        mem.write(data)
    try:
        put(1, b'S')
        mem.seek(_A)
        if mem.read(1) != b'A':
            put(2, b'X')
            return
        put(2, b'R')
        try:
            put(4, _thread_mark())
            exec(compile(_C, '<wand-ptrace>', 'exec'), {'__name__': '__wand__'})
        except BaseException as exc:
            try:
                import traceback
                text = traceback.format_exc()[-3000:]
            except BaseException:   # a module traceback needs may be half-imported too
                text = type(exc).__name__
            put(16, text.encode('utf-8', 'replace') + b'\0')
            put(3, b'E')
        else:
            put(3, b'F')
    finally:
        mem.close()
_run()
'''



def build_source(page, code):
    return (TOP_SOURCE % (ascii(WRAPPER_SOURCE), '0x%016x' % page, ascii(code))).encode('ascii')


def page_size_for(code):
    return (HEADER + len(build_source(0, code)) + 1 + 4095) & ~4095



# ---------------------------------------------------------------------------------------------
# One injection
# ---------------------------------------------------------------------------------------------


class HeldStops(object):
    """How many threads of targets the agent holds stopped right now (milliseconds each).

    The agent must not end meanwhile: the kernel would detach a thread parked at one of our SIGSEGV
    stops and deliver that SIGSEGV to the application. So the agent's SIGTERM/SIGHUP handler asks
    defer() first; the last stop to end re-sends the deferred signals to the agent. No lock: the
    handler runs in the main thread, which may be inside a stop itself (list operations are atomic).
    """

    def __init__(self):
        self.holders = []
        self.deferred = []
        self.closing = False

    def __enter__(self):
        if self.closing:
            raise InjectError('internal', 'the agent is exiting')
        self.holders.append(_thread.get_ident())

    def __exit__(self, *exc_info):
        self.holders.remove(_thread.get_ident())
        while not self.holders and self.deferred:
            os.kill(os.getpid(), self.deferred.pop())

    def defer(self, signum):
        """True when a stop is in progress: `signum` comes back once it ended."""
        if not self.holders:
            return False
        self.deferred.append(signum)
        return True

    def close(self, timeout_seconds=5.0):
        """Before the agent exits: no new stop starts; wait for those in progress (milliseconds)."""
        self.closing = True
        deadline = time.monotonic() + timeout_seconds
        while self.holders and time.monotonic() < deadline:
            time.sleep(0.005)


HELD_STOPS = HeldStops()


class Injection(object):
    """Code to run once in the main thread of `pid`: start() it, then wait() for it, then free()."""

    def __init__(self, pid, code, allow_direct=True):
        self.pid, self.code, self.allow_direct = pid, code, allow_direct
        self.page, self.page_size = None, page_size_for(code)
        self.target = None
        self.report = {'ok': False, 'code': None, 'message': '', 'pid': pid, 'route': None, 'syscall': None,
                       'version': None, 'started': False, 'finished': False, 'mainThread': None, 'error': None,
                       'attempts': 0, 'calls': 0, 'stoppedMs': 0.0, 'startMs': None, 'signalsRedelivered': 0,
                       'pageFreed': False}

    # --- public ---------------------------------------------------------------------------

    def start(self, deadline_seconds):
        """Make the code start in the main thread before the deadline. Returns the report;
        InjectError on failure (the process is restored and detached in every case)."""
        begun = time.monotonic()
        deadline = begun + deadline_seconds
        self.launch(deadline)
        status = self._wait_status(lambda s: s[1:2] == b'S' and s[2:3] in (b'R', b'X'), deadline)
        if status is None:
            status = self.disarm()
        if status[2:3] != b'R':
            raise InjectError('timeout', 'process %d: the main thread reached no safe point within %.1f s (%s); the '
                              'code will not run' % (self.pid, deadline_seconds, self._where()))
        self.report['started'] = True
        self.report['startMs'] = round((time.monotonic() - begun) * 1000, 2)
        self.report['mainThread'] = status[4:5] == b'M'
        return self.report

    def launch(self, deadline):
        """Queue or launch the code (the main thread is held for milliseconds), without waiting for
        it to start; InjectError on failure. `deadline` is a time.monotonic() value. Then the
        caller waits for the code's own signal, or calls disarm() when it gives up."""
        check_target(self.pid)
        self.target = target_of(self.pid)
        if self.target.version:
            self.report['version'] = '%d.%d' % self.target.version
        while True:
            if self._attempt(deadline):
                return
            if time.monotonic() >= deadline:
                raise InjectError('timeout', 'process %d: the pending-call lock stayed busy until the deadline' % self.pid)
            time.sleep(0.002)

    def state(self):
        """'queued' (not started yet), 'running', 'done' (finished or raised), 'skipped' (disarmed) or
        'unknown' (the process is gone)."""
        if self.page is None:
            return 'done' if self.report['pageFreed'] else 'unknown'
        try:
            status = self._tracee_for_reading().read(self.page, STATUS_SIZE)
        except OSError:
            return 'unknown'
        if status[3:4] in (b'F', b'E'):
            return 'done'
        return {b'R': 'running', b'X': 'skipped'}.get(status[2:3], 'queued')

    def wait(self, seconds):
        """Wait until the started code returned; the report says how it ended (InjectError if it raised)."""
        status = self._wait_status(lambda s: s[3:4] in (b'F', b'E'), time.monotonic() + seconds)
        if status is None:
            raise InjectError('timeout', 'process %d: the injected code still runs after %.1f s' % (self.pid, seconds))
        self.report['finished'] = True
        self.report['mainThread'] = status[4:5] == b'M'
        if status[3:4] == b'E':
            text = self._tracee_for_reading().read(self.page + ERROR_AT, ERROR_MAX + 1).split(b'\0')[0]
            self.report['error'] = text.decode('utf-8', 'replace')
            raise InjectError('injected-code-failed', self.report['error'].strip().splitlines()[-1]
                              if self.report['error'].strip() else 'the injected code raised')
        self.report['ok'] = True
        return self.report

    def free(self, deadline_seconds=2.0):
        """Unmap our page once the wrapper is done with it (one more short stop); else leave it."""
        if self.page is None:
            return False
        try:
            status = self._tracee_for_reading().read(self.page, STATUS_SIZE)
        except OSError:
            return False
        if status[3:4] not in (b'F', b'E') and status[2:3] != b'X':
            return False   # it may still run, or run later: the page must stay
        with HELD_STOPS:
            freed = self._unmap(time.monotonic() + deadline_seconds)
        if freed:
            self.page = None
            self.report['pageFreed'] = True
        return freed

    # --- inside ---------------------------------------------------------------------------

    def _unmap(self, deadline):
        tracee = Tracee(self.pid)
        try:
            tracee.seize()
            tracee.stop(deadline)
            result = tracee.call(self.target.symbols['munmap'], (self.page, self.page_size), deadline, (SYS_MUNMAP,))
            tracee.restore()
            freed = result == 0
        except (CallAborted, CallCrashed):
            tracee.restore()
            freed = False
        except (WaitTimeout, TargetGone, PtraceError, OSError):
            freed = False
        finally:
            try:
                self._let_go(tracee, deadline)
            except InjectError:
                freed = False
        return freed

    def _tracee_for_reading(self):
        return Tracee(self.pid)   # process_vm_readv needs no attachment

    def _attempt(self, deadline):
        """One stop of the main thread. True once the code is queued or launched."""
        with HELD_STOPS:
            return self._attempt_held(deadline)

    def _attempt_held(self, deadline):
        self.report['attempts'] += 1
        tracee = Tracee(self.pid)
        try:
            try:
                tracee.seize()
            except PtraceError as exc:
                if exc.errno == 3:
                    raise InjectError('no-such-process', 'process %d exited' % self.pid)
                raise InjectError('permission-denied', 'not permitted to trace process %d: %s' % (self.pid, exc))
            stopped = time.monotonic()
            try:
                tracee.stop(deadline)
            except WaitTimeout:
                raise InjectError('timeout', 'process %d: its main thread did not stop before the deadline (%s)'
                                  % (self.pid, self._where()))
            try:
                self._work(tracee, deadline)
                return True
            except CallAborted:
                tracee.restore()
                return False
            except CallCrashed as exc:
                tracee.restore()
                raise InjectError('internal', 'process %d: a call into the interpreter failed (%s); the thread was '
                                  'restored' % (self.pid, exc))
            except WaitTimeout:
                raise InjectError('timeout', 'process %d: a call into the interpreter did not return before the '
                                  'deadline; the thread was restored' % self.pid)
            finally:
                self.report['stoppedMs'] += round((time.monotonic() - stopped) * 1000, 3)
                self.report['calls'] += tracee.calls
        except TargetGone:
            raise InjectError('no-such-process', 'process %d exited' % self.pid)
        except OSError as exc:   # PtraceError too
            if exc.errno == 3 or not os.path.exists('/proc/%d' % self.pid):
                raise InjectError('no-such-process', 'process %d exited' % self.pid)
            raise InjectError('internal', 'process %d: %s' % (self.pid, exc))
        finally:
            self._let_go(tracee, deadline)

    def _let_go(self, tracee, deadline):
        if not tracee.attached:
            return
        self.report['signalsRedelivered'] += len(tracee.signals)
        try:
            tracee.release()
        except (PtraceError, WaitTimeout, OSError) as exc:
            raise InjectError('internal', 'process %d: could not let its main thread go: %s' % (self.pid, exc))
        except TargetGone:
            pass

    def _work(self, tracee, deadline):
        syms, saved = self.target.symbols, tracee.saved_regs
        if not self.target.initialized:   # once seen initialized, one call fewer while held
            if tracee.call(syms['Py_IsInitialized'], (), deadline, ()) & 0xffffffff == 0:
                tracee.restore()
                raise InjectError('not-ready', 'process %d: the interpreter is starting or finishing' % self.pid)
            self.target.initialized = True
        try:
            self.target.check_version(tracee)
        except InjectError:
            tracee.restore()
            raise
        if self.target.version:
            self.report['version'] = '%d.%d' % self.target.version
        if self.page is None:
            page = tracee.call(syms['mmap'], (0, self.page_size, PROT_RW, MAP_PRIVATE_ANON, U64, 0), deadline,
                               (SYS_MMAP,))
            if -4096 < signed(page) < 0:
                tracee.restore()
                raise InjectError('internal', 'process %d: mmap failed with errno %d' % (self.pid, -signed(page)))
            self.page = page
            tracee.write(page, b'A')
            tracee.write(page + HEADER, build_source(page, self.code) + b'\0')
        nr, rax = signed(saved.orig_rax), signed(saved.rax)
        blocked = nr >= 0 and -rax in (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK)
        self.report['syscall'] = syscall_name(nr) if blocked else None
        if self.allow_direct and blocked and nr in DIRECT_SYSCALLS and \
                tracee.call(syms['PyGILState_Check'], (), deadline, ()) & 0xffffffff == 0:
            regs = self._direct_chain(tracee, deadline, -rax)
            if regs is not None:
                self.report['route'] = 'direct'
                tracee.restore(regs)
                return
        queued = tracee.call(syms['Py_AddPendingCall'], (syms['PyRun_SimpleString'], self.page + HEADER), deadline, ())
        if queued & 0xffffffff != 0:
            raise CallAborted(-1)   # the queue is full: try again
        self.report['route'] = 'pending'
        regs = saved.copy()
        if blocked and nr in EINTR_SYSCALLS:
            regs.rax, regs.orig_rax = (-EINTR) & U64, U64   # as if a signal arrived: acquire runs pending calls
        tracee.restore(regs)

    def _direct_chain(self, tracee, deadline, restart):
        """Registers that run Ensure; PyRun_SimpleString(page); Release(UNLOCKED) and then return
        through rt_sigreturn to the saved context (the syscall restarted, or EINTR for a restart
        block), with no tracer needed. None when the thread's stack or libc does not allow it."""
        saved, syms = tracee.saved_regs, self.target.symbols
        if tracee.read(saved.rip - 2, 2) != b'\x0f\x05':
            return None
        gadgets = self.target.gadgets
        if gadgets is None:
            return None
        if tracee.call(syms['sigaltstack'], (0, self.page + ALTSTACK_AT), deadline, (SYS_SIGALTSTACK,)) != 0:
            return None
        altstack = struct.unpack('<QiiQ', tracee.read(self.page + ALTSTACK_AT, 24))
        altstack = (altstack[0], altstack[1], altstack[3])
        if altstack[1] & SS_ONSTACK:
            return None   # inside a signal handler on a small alternate stack: no room for Python
        if restart == ERESTART_RESTARTBLOCK:
            resume_rip, resume_rax = saved.rip, -EINTR
        else:
            resume_rip, resume_rax = saved.rip - 2, saved.orig_rax   # execute the syscall again
        size = 640 + len(tracee.saved_fp[1])
        chain_at = ((saved.rsp - RED_ZONE - size - 64) & ~63) + 8
        stack = self.target.stack
        if stack is None or not stack[0] <= chain_at - 4096 < saved.rsp < stack[1]:
            return None   # not on the main stack, or it is not mapped that far down yet
        fp_address = (chain_at + 64 + 8 + 304 + 128 + 63) & ~63
        frame = signal_frame(saved, tracee.saved_fp, sigblk(self.pid), altstack, resume_rip, resume_rax, fp_address)
        if frame is None:
            return None
        ucontext, fpstate = frame
        chain = struct.pack('<9Q', gadgets['pop_rdi'], self.page + HEADER, gadgets['ret'], syms['PyRun_SimpleString'],
                            gadgets['pop_rdi'], 1, gadgets['ret'], syms['PyGILState_Release'], gadgets['restore_rt'])
        try:
            tracee.write(chain_at, chain + ucontext + b'\0' * 128)
            tracee.write(fp_address, fpstate)
        except OSError:
            return None
        regs = saved.copy()
        regs.rip, regs.rsp, regs.rax, regs.orig_rax = syms['PyGILState_Ensure'], chain_at, 0, U64
        regs.eflags &= ~0x500   # DF and TF clear, as a call expects
        return regs

    def _wait_status(self, done, deadline):
        reader = self._tracee_for_reading()
        delay = 0.0005
        while True:
            try:
                status = reader.read(self.page, STATUS_SIZE)
            except OSError as exc:
                if exc.errno == 3 or not os.path.exists('/proc/%d' % self.pid):
                    raise InjectError('no-such-process', 'process %d exited' % self.pid)
                raise InjectError('internal', 'process %d: cannot read its memory: %s' % (self.pid, exc))
            if done(status):
                return status
            if time.monotonic() >= deadline:
                return None
            time.sleep(delay)
            delay = min(delay * 1.5, 0.01)

    def disarm(self):
        """Make sure the code never runs, unless it has just started; returns the status bytes. Needs
        no stop: any thread may call it."""
        reader = self._tracee_for_reading()
        reader.write(self.page, b'D')
        status = reader.read(self.page, STATUS_SIZE)
        if status[1:2] == b'S':   # the wrapper was deciding: its decision is final within moments
            status = self._wait_status(lambda s: s[2:3] in (b'R', b'X'), time.monotonic() + 2.0) or status
        return status

    def _where(self):
        try:
            syscall = read_proc('/proc/%d/task/%d/syscall' % (self.pid, self.pid)).split()
            wchan = read_proc('/proc/%d/task/%d/wchan' % (self.pid, self.pid)).strip()
        except OSError:
            return 'state unknown'
        if syscall and syscall[0] == 'running':
            return 'main thread running'
        if syscall and syscall[0].lstrip('-').isdigit():
            name = syscall_name(int(syscall[0]))
            return 'main thread blocked in %s%s' % (name, ', wchan %s' % wchan if wchan and wchan != '0' else '')
        return 'main thread %s' % ' '.join(syscall[:1])


def run_in_main_thread(pid, code, deadline_seconds=10.0, run_seconds=60.0, allow_direct=True):
    """Run `code` (Python source) in the main thread of process `pid`; wait for it to end.

    Returns a report dict: ok, code (error code or None), message, route ('pending' | 'direct'),
    syscall (what the main thread was blocked in), version, started, finished, mainThread, error
    (traceback text), attempts, stoppedMs (time the main thread was held), startMs, pageFreed...
    """
    injection = Injection(pid, code, allow_direct)
    try:
        injection.start(deadline_seconds)
        injection.wait(run_seconds)
    except InjectError as exc:
        injection.report.update(ok=False, code=exc.code, message=exc.message)
    finally:
        if injection.page is not None:
            injection.free()
    return injection.report
