"""ptrace on one thread of an x86_64 process: stop, save, call a function in it, restore, detach.

Part of the ptrace injector (see ptrace_inject.md). Only libc is used, through ctypes.

Rules this module keeps:
* Only the thread given is traced (PTRACE_SEIZE + PTRACE_INTERRUPT); the others keep running.
* The saved context is every general register (PTRACE_GETREGS) and the whole FP/vector state
  (PTRACE_GETREGSET NT_X86_XSTATE, else the legacy FXSAVE area). It is written back only at a stop
  inside the kernel's get_signal() (an interrupt, group or signal-delivery stop), where the
  kernel's own syscall-restart logic then sees the original rax/orig_rax, as after a signal.
* A function call sets rip/rsp/arguments, orig_rax = -1 (no syscall restart) and returns to an
  unmapped address (MAGIC); the SIGSEGV there means "returned". No code is ever written.
* With ``allowed_syscalls`` the call runs under PTRACE_SYSCALL: any other syscall (a contended
  lock: futex, sched_yield) aborts the call before that syscall runs.
* Signals the thread receives while traced are suppressed and remembered; ``detach`` re-delivers
  them (the first by substitution at a signal-delivery stop, the others with tgkill).
* All ptrace requests must come from the thread that called ``seize``.

Python 3.9+, standard library only.
"""

import os
import signal
import struct
import time

PTRACE_CONT = 7
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_GETFPREGS = 14
PTRACE_SETFPREGS = 15
PTRACE_DETACH = 17
PTRACE_SYSCALL = 24
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_O_TRACESYSGOOD = 1
PTRACE_EVENT_STOP = 128
NT_X86_XSTATE = 0x202
WALL = 0x40000000
SYS_TGKILL = 234

#: return address of remote calls: below mmap_min_addr, so never mapped
MAGIC = 0x320
RED_ZONE = 128
XSTATE_BUFFER = 1 << 16
#: signals that mean the code we called crashed (anything else is the application's)
FAULT_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE)

GADGET_RESTORE_RT = b'\x48\xc7\xc0\x0f\x00\x00\x00\x0f\x05'   # mov $15,%rax; syscall
GADGET_POP_RDI = b'\x5f\xc3'                                   # pop %rdi; ret
GADGET_RET = b'\xc3'
FP_XSTATE_MAGIC1 = 0x46505853
FP_XSTATE_MAGIC2 = 0x46505845
AMX_FEATURES = (1 << 17) | (1 << 18)
AMX_BYTES = 64 + 8192
UC_FLAGS = 0x7           # UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS

REG_NAMES = ('r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx',
             'rsi', 'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds',
             'es', 'fs', 'gs')
ARG_REGS = ('rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9')
U64 = (1 << 64) - 1


_ctypes_classes = {}


def ctypes_classes():
    """(Regs, IoVec): ctypes structures, made on first use. ctypes is imported only by the operations
    that inject (see the package's import rule): `list` never pays for it."""
    if not _ctypes_classes:
        import ctypes

        class Regs(ctypes.Structure):
            _fields_ = [(name, ctypes.c_ulonglong) for name in REG_NAMES]

            def copy(self):
                other = Regs()
                ctypes.memmove(ctypes.byref(other), ctypes.byref(self), ctypes.sizeof(Regs))
                return other

        class IoVec(ctypes.Structure):
            _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]

        _ctypes_classes.update(regs=Regs, iovec=IoVec)
    return _ctypes_classes['regs'], _ctypes_classes['iovec']


def signed(value):
    return value - (1 << 64) if value & (1 << 63) else value


_libc = None


def libc():
    global _libc
    import ctypes
    if _libc is None:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.ptrace.restype = ctypes.c_long
        lib.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        for name in ('process_vm_readv', 'process_vm_writev'):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_ssize_t
            iovec_p = ctypes.POINTER(ctypes_classes()[1])
            fn.argtypes = [ctypes.c_int, iovec_p, ctypes.c_ulong, iovec_p, ctypes.c_ulong, ctypes.c_ulong]
        lib.syscall.restype = ctypes.c_long
        _libc = lib
    return _libc


class PtraceError(OSError):
    def __init__(self, what, err):
        OSError.__init__(self, err, '%s: %s' % (what, os.strerror(err)))
        self.what = what


class WaitTimeout(Exception):
    pass


class TargetGone(Exception):
    pass


class CallAborted(Exception):
    """The call made a syscall it may not (a contended lock): it was stopped before that syscall."""

    def __init__(self, syscall):
        Exception.__init__(self, 'the call made syscall %d' % syscall)
        self.syscall = syscall


class CallCrashed(Exception):
    def __init__(self, sig, rip):
        Exception.__init__(self, 'the call received signal %d at 0x%x' % (sig, rip))
        self.sig, self.rip = sig, rip


class Stop(object):
    __slots__ = ('kind', 'sig', 'status')

    def __init__(self, kind, sig=0, status=0):
        self.kind, self.sig, self.status = kind, sig, status

    def __repr__(self):
        return 'Stop(%s, %d)' % (self.kind, self.sig)


def decode_status(status):
    if os.WIFEXITED(status) or os.WIFSIGNALED(status):
        return Stop('exited', 0, status)
    sig = os.WSTOPSIG(status)
    if status >> 16:
        return Stop('event-stop', sig, status)
    if sig == (signal.SIGTRAP | 0x80):
        return Stop('syscall', sig, status)
    return Stop('signal', sig, status)


class Tracee(object):
    """One traced thread (the main thread: tid == pid)."""

    def __init__(self, pid):
        self.pid = pid
        self.signals = []          # the application's signals seen while traced, to re-deliver
        self.last_stop = None
        self.saved_regs = None
        self.saved_fp = None       # (regset, bytes)
        self.attached = False
        self.running = False       # resumed and not yet seen stopped again
        self.dirty = False         # registers differ from the saved context
        self.stops = 0
        self.calls = 0             # functions called in the thread

    # --- raw requests ---------------------------------------------------------------------

    def _ptrace(self, request, addr=0, data=0, what=None):
        import ctypes
        lib = libc()
        ctypes.set_errno(0)
        result = lib.ptrace(request, self.pid, addr, data)
        if result == -1:
            err = ctypes.get_errno()
            if err:
                raise PtraceError(what or 'ptrace(%d)' % request, err)
        return result

    def seize(self):
        self._ptrace(PTRACE_SEIZE, 0, PTRACE_O_TRACESYSGOOD, 'PTRACE_SEIZE')
        self.attached = True
        self.running = True

    def interrupt(self):
        self._ptrace(PTRACE_INTERRUPT, 0, 0, 'PTRACE_INTERRUPT')

    def resume(self, sig=0, syscalls=False):
        self._ptrace(PTRACE_SYSCALL if syscalls else PTRACE_CONT, 0, sig, 'PTRACE_CONT')
        self.running = True

    def getregs(self):
        import ctypes
        regs = ctypes_classes()[0]()
        self._ptrace(PTRACE_GETREGS, 0, ctypes.addressof(regs), 'PTRACE_GETREGS')
        return regs

    def setregs(self, regs):
        import ctypes
        self._ptrace(PTRACE_SETREGS, 0, ctypes.addressof(regs), 'PTRACE_SETREGS')

    def get_fp(self):
        """('xstate' | 'fxsave', bytes): the whole FP/vector state."""
        import ctypes
        buf = ctypes.create_string_buffer(XSTATE_BUFFER)
        iov = ctypes_classes()[1](ctypes.addressof(buf), XSTATE_BUFFER)
        try:
            self._ptrace(PTRACE_GETREGSET, NT_X86_XSTATE, ctypes.addressof(iov), 'PTRACE_GETREGSET')
            return 'xstate', buf.raw[:iov.len]
        except PtraceError:
            fx = ctypes.create_string_buffer(512)
            self._ptrace(PTRACE_GETFPREGS, 0, ctypes.addressof(fx), 'PTRACE_GETFPREGS')
            return 'fxsave', fx.raw

    def set_fp(self, state):
        import ctypes
        kind, data = state
        buf = ctypes.create_string_buffer(data, len(data))
        if kind == 'xstate':
            iov = ctypes_classes()[1](ctypes.addressof(buf), len(data))
            self._ptrace(PTRACE_SETREGSET, NT_X86_XSTATE, ctypes.addressof(iov), 'PTRACE_SETREGSET')
        else:
            self._ptrace(PTRACE_SETFPREGS, 0, ctypes.addressof(buf), 'PTRACE_SETFPREGS')

    def detach(self):
        """Let the thread go, re-delivering the application's signals seen while it was traced."""
        pending = list(self.signals)
        first = pending.pop(0) if pending and self.last_stop is not None and self.last_stop.kind == 'signal' else 0
        lost = []
        for sig in pending:
            if libc().syscall(SYS_TGKILL, self.pid, self.pid, sig) != 0:
                lost.append(sig)
        self._ptrace(PTRACE_DETACH, 0, first, 'PTRACE_DETACH')
        self.attached = False
        self.signals = []
        return lost

    # --- memory ---------------------------------------------------------------------------

    def read(self, address, size):
        import ctypes
        buf = ctypes.create_string_buffer(size)
        local = ctypes_classes()[1](ctypes.addressof(buf), size)
        remote = ctypes_classes()[1](address, size)
        n = libc().process_vm_readv(self.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if n == size:
            return buf.raw
        err = ctypes.get_errno()
        if n < 0 and err == 38:  # ENOSYS: read through /proc/PID/mem instead
            with open('/proc/%d/mem' % self.pid, 'rb', buffering=0) as f:
                f.seek(address)
                data = f.read(size)
                if len(data) == size:
                    return data
        raise OSError(err or 5, 'cannot read %d bytes at 0x%x of process %d' % (size, address, self.pid))

    def write(self, address, data):
        import ctypes
        buf = ctypes.create_string_buffer(data, len(data))
        local = ctypes_classes()[1](ctypes.addressof(buf), len(data))
        remote = ctypes_classes()[1](address, len(data))
        n = libc().process_vm_writev(self.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if n == len(data):
            return
        err = ctypes.get_errno()
        if n < 0 and err == 38:
            with open('/proc/%d/mem' % self.pid, 'r+b', buffering=0) as f:
                f.seek(address)
                if f.write(data) == len(data):
                    return
        raise OSError(err or 5, 'cannot write %d bytes at 0x%x of process %d' % (len(data), address, self.pid))

    # --- stops ----------------------------------------------------------------------------

    def wait(self, deadline):
        """The next stop of the thread; WaitTimeout at `deadline` (time.monotonic())."""
        delay = 0.00002
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG | WALL)
            except ChildProcessError:
                raise TargetGone()
            if pid:
                stop = decode_status(status)
                if stop.kind == 'exited':
                    self.attached = False
                    raise TargetGone()
                self.last_stop = stop
                self.running = False
                self.stops += 1
                return stop
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout()
            time.sleep(delay)
            delay = min(delay * 2, 0.0005)

    def remember(self, sig):
        if sig not in self.signals or sig >= 32:
            self.signals.append(sig)

    def stop(self, deadline):
        """Interrupt the running thread; return once it is stopped in get_signal (registers saved).

        Any trap consumes a pending PTRACE_INTERRUPT (kernel/ptrace.c, ptrace_stop), so the first
        stop is the one: a signal-delivery stop is in get_signal too (the signal is kept for later).
        """
        self._interrupt_until_in_get_signal(deadline, ours=False)
        self.saved_regs = self.getregs()
        self.saved_fp = self.get_fp()

    def settle(self, deadline):
        """After a call ran past its deadline: stop the running thread again, in get_signal."""
        self._interrupt_until_in_get_signal(deadline, ours=True)

    def _interrupt_until_in_get_signal(self, deadline, ours):
        self.interrupt()
        while True:
            stop = self.wait(deadline)
            if stop.kind == 'syscall':   # a syscall trap took the interrupt: ask again
                self.resume()
                self.interrupt()
                continue
            if stop.kind == 'signal' and not (ours and stop.sig in FAULT_SIGNALS):
                self.remember(stop.sig)  # (a fault of our own call, or its return to MAGIC: dropped)
            return stop

    def restore(self, regs=None):
        """Write back the saved context (or `regs`, a modified copy) and the FP state."""
        self.setregs(regs if regs is not None else self.saved_regs)
        self.set_fp(self.saved_fp)
        self.dirty = False

    def release(self, grace_seconds=5.0):
        """Whatever happened: stop the thread if it runs one of our calls, put its context back
        unless a deliberate one was set, and detach. Returns the signals that could not be re-sent."""
        if not self.attached:
            return []
        deadline = time.monotonic() + grace_seconds
        if self.running:
            self.settle(deadline)
        if self.dirty:
            self.restore()
        return self.detach()

    def call(self, function, args=(), deadline=None, allowed_syscalls=None):
        """Run function(*args) in the stopped thread from its saved context; return rax (unsigned).

        Ends stopped at the SIGSEGV of the return to MAGIC, a get_signal stop. CallAborted,
        CallCrashed, WaitTimeout and TargetGone leave the thread stopped somewhere the caller must
        `settle` (WaitTimeout) or restore from (the others, except TargetGone).
        """
        self.calls += 1
        regs = self.saved_regs.copy()
        sp = ((self.saved_regs.rsp - RED_ZONE - 256) & ~0xF) - 8
        self.write(sp, struct.pack('<Q', MAGIC))
        regs.rsp, regs.rip, regs.rax, regs.orig_rax = sp, function, 0, U64
        for name, value in zip(ARG_REGS, args):
            setattr(regs, name, value & U64)
        self.dirty = True
        self.setregs(regs)
        tracing = allowed_syscalls is not None
        aborted = None
        in_syscall = False
        self.resume(syscalls=tracing)
        while True:
            stop = self.wait(deadline)
            if stop.kind == 'syscall':
                now = self.getregs()
                if in_syscall:
                    in_syscall = False
                elif now.orig_rax in allowed_syscalls:
                    in_syscall = True
                else:
                    aborted = now.orig_rax
                    now.orig_rax, now.rip = U64, MAGIC   # skip it and "return" at once
                    self.setregs(now)
                    tracing = False
                self.resume(syscalls=tracing)
                continue
            if stop.kind == 'signal':
                now = self.getregs()
                if stop.sig == signal.SIGSEGV and now.rip == MAGIC:
                    if aborted is not None:
                        raise CallAborted(aborted)
                    return now.rax
                if stop.sig in FAULT_SIGNALS:
                    raise CallCrashed(stop.sig, now.rip)
                self.remember(stop.sig)
            if stop.kind != 'syscall' and deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout()   # stopped in get_signal: the caller can restore right here
            self.resume(syscalls=tracing)


# ---------------------------------------------------------------------------------------------
# The direct route: a return chain ending in rt_sigreturn, and its signal frame
# ---------------------------------------------------------------------------------------------


def find_gadgets(tracee, ranges):
    found = {}
    for start, end in ranges:
        try:
            text = tracee.read(start, end - start)
        except OSError:
            continue
        for name, pattern in (('restore_rt', GADGET_RESTORE_RT), ('pop_rdi', GADGET_POP_RDI), ('ret', GADGET_RET)):
            at = text.find(pattern)
            if at >= 0 and name not in found:
                found[name] = start + at
        if len(found) == 3:
            return found
    return None


def sigframe_fpstate(fp):
    """The FP area of a signal frame from the PTRACE_GETREGSET dump: the same XSAVE standard
    format, with the software bytes rt_sigreturn checks (the dump has XCR0 there, as gdb knows)
    and the second magic word after it. None if it cannot be made exact."""
    kind, data = fp
    if kind != 'xstate':
        return data   # FXSAVE only: the kernel restores it as such
    xcr0 = struct.unpack_from('<Q', data, 464)[0]
    in_use = struct.unpack_from('<Q', data, 512)[0]
    size = len(data)
    if xcr0 & AMX_FEATURES:
        # Unverified: AMX tile state (last in the standard format) is only restorable by a task
        # that asked for it; leave it out when unused, and refuse the direct route otherwise.
        if in_use & AMX_FEATURES:
            return None
        xcr0 &= ~AMX_FEATURES
        size -= AMX_BYTES
    if size < 576 or size > len(data):
        return None
    sw = struct.pack('<IIQI28x', FP_XSTATE_MAGIC1, size + 4, xcr0, size)
    return data[:464] + sw + data[512:size] + struct.pack('<I', FP_XSTATE_MAGIC2)


def signal_frame(regs, fp, sigmask, altstack, resume_rip, resume_rax, fp_address):
    """A struct ucontext (x86_64) and the FP area: what rt_sigreturn restores the thread from."""
    fpstate = sigframe_fpstate(fp)
    if fpstate is None:
        return None
    ss_sp, ss_flags, ss_size = altstack
    mcontext = struct.pack('<18Q4H4QQ8Q', regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14,
                           regs.r15, regs.rdi, regs.rsi, regs.rbp, regs.rbx, regs.rdx, resume_rax & U64, regs.rcx,
                           regs.rsp, resume_rip, regs.eflags, regs.cs, 0, 0, regs.ss, 0, 0, 0, 0, fp_address,
                           *([0] * 8))
    ucontext = struct.pack('<QQQiiQ', UC_FLAGS, 0, ss_sp, ss_flags, 0, ss_size) + mcontext + struct.pack('<Q', sigmask)
    return ucontext, fpstate
