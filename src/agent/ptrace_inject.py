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

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ptrace_elf  # noqa: E402
import ptrace_x86  # noqa: E402
from ptrace_x86 import (MAGIC, RED_ZONE, U64, CallAborted, CallCrashed, PtraceError,  # noqa: E402
                        TargetGone, Tracee, WaitTimeout, find_gadgets, signal_frame, signed)

DISABLE_ENV = 'PYTHON_DISABLE_REMOTE_DEBUG'
SUPPORTED = ((3, 9), (3, 13))

PY_FUNCTIONS = ('Py_IsInitialized', 'PyGILState_Check', 'PyGILState_Ensure', 'PyGILState_Release',
                'PyRun_SimpleString', 'Py_AddPendingCall')
LIBC_FUNCTIONS = ('mmap', 'munmap', 'sigaltstack')

SYS_MMAP, SYS_MUNMAP, SYS_SIGALTSTACK = 9, 11, 131
#: blocking waits outside the interpreter: with the GIL released, the code runs right there
DIRECT_SYSCALLS = {0: 'read', 7: 'poll', 23: 'select', 34: 'pause', 35: 'nanosleep', 43: 'accept',
                   45: 'recvfrom', 47: 'recvmsg', 61: 'wait4', 230: 'clock_nanosleep', 232: 'epoll_wait',
                   247: 'waitid', 270: 'pselect6', 271: 'ppoll', 281: 'epoll_pwait', 288: 'accept4',
                   299: 'recvmmsg', 441: 'epoll_pwait2'}
#: lock and Event waits: made to return EINTR, after which CPython's lock acquire runs pending calls.
#: restart_syscall is a futex or sleep resumed after a signal: which one is not known, so never direct.
EINTR_SYSCALLS = {202: 'futex', 449: 'futex_waitv', 219: 'restart_syscall'}
#: other names, for reports only
OTHER_SYSCALLS = {1: 'write', 42: 'connect', 44: 'sendto', 46: 'sendmsg', 72: 'fcntl', 73: 'flock',
                  128: 'rt_sigtimedwait', 130: 'rt_sigsuspend', 68: 'msgsnd', 70: 'msgrcv'}


def syscall_name(nr):
    return DIRECT_SYSCALLS.get(nr) or EINTR_SYSCALLS.get(nr) or OTHER_SYSCALLS.get(nr) or 'syscall %d' % nr
ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK = 512, 513, 514, 516
EINTR = 4

HEADER = 4096            # status bytes, then the error text; the source follows
STATUS_SIZE = 8
ALTSTACK_AT = 3584       # where sigaltstack() writes the current alternate stack
ERROR_AT, ERROR_MAX = 16, 3000
PROT_RW, MAP_PRIVATE_ANON = 3, 0x22
SS_ONSTACK = 1


# The code PyRun_SimpleString runs in __main__: binds no name there and can raise nothing.
TOP_SOURCE = ("try:\n"
              "    __import__('builtins').exec(%s, {'__name__': '__wand_ptrace__', '_A': %s, '_C': %s})\n"
              "except BaseException:\n"
              "    pass\n")
# Its status goes to our page through /proc/self/mem: byte 0 is ours ('A' armed, 'D' disarmed);
# the wrapper writes 1 'S' (about to start), 2 'R' (runs) or 'X' (disarmed: skipped), 3 'F'
# (finished) or 'E' (raised, text at ERROR_AT), 4 'M' (main thread) or 'T'. Checking byte 0 after
# writing byte 1 (and our re-reading byte 1 after writing byte 0) means a disarmed payload never
# runs unseen.
WRAPPER_SOURCE = r'''
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
        import sys, _thread
        threading = sys.modules.get('threading')
        main = threading is not None and threading.main_thread().ident == _thread.get_ident()
        put(4, b'M' if main else b'T')
        try:
            exec(compile(_C, '<wand-ptrace>', 'exec'), {'__name__': '__wand__'})
        except BaseException:
            import traceback
            put(16, traceback.format_exc()[-3000:].encode('utf-8', 'replace') + b'\0')
            put(3, b'E')
        else:
            put(3, b'F')
    finally:
        mem.close()
_run()
'''


class InjectError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code, self.message = code, message


class _Retry(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Before touching the process
# ---------------------------------------------------------------------------------------------


def _read(path, mode='r'):
    with open(path, mode) as f:
        return f.read()


def _status(pid):
    fields = {}
    for line in _read('/proc/%d/status' % pid).splitlines():
        key, _, value = line.partition(':')
        fields[key] = value.strip()
    return fields


def check_target(pid, machine=None):
    """Refuse early, with the most telling reason, what this injector must not touch."""
    machine = machine or os.uname()[4]
    if machine != 'x86_64':
        raise InjectError('unsupported-arch', 'the ptrace injector supports x86_64 only, not %s' % machine)
    try:
        status = _status(pid)
    except OSError:
        raise InjectError('no-such-process', 'no process %d' % pid)
    try:
        with open('/proc/%d/exe' % pid, 'rb') as f:
            head = f.read(20)
        if head[:4] == b'\x7fELF' and (head[4] != 2 or struct.unpack_from('<H', head, 18)[0] != ptrace_elf.EM_X86_64):
            raise InjectError('unsupported-arch', 'process %d is not a 64-bit x86_64 program' % pid)
    except OSError:
        pass
    try:
        environ = _read('/proc/%d/environ' % pid, 'rb').split(b'\0')
        argv = _read('/proc/%d/cmdline' % pid, 'rb').split(b'\0')
    except PermissionError:
        raise InjectError('permission-denied', 'cannot read /proc/%d/environ: not permitted to trace it' % pid)
    except OSError:
        raise InjectError('no-such-process', 'process %d exited' % pid)
    if any(entry.startswith(DISABLE_ENV.encode() + b'=') for entry in environ):
        raise InjectError('remote-debug-disabled', 'process %d has %s set in its environment' % (pid, DISABLE_ENV))
    if b'disable-remote-debug' in argv or any(a.startswith(b'disable-remote-debug=') for a in argv):
        raise InjectError('remote-debug-disabled', 'process %d was started with -X disable-remote-debug' % pid)
    state = status.get('State', '?')[:1]
    if state in ('Z', 'X'):
        raise InjectError('no-such-process', 'process %d exited' % pid)
    if state in ('T', 't'):
        raise InjectError('not-ready', 'process %d is stopped (%s)' % (pid, status.get('State')))
    if status.get('TracerPid', '0') != '0':
        raise InjectError('permission-denied', 'process %d is already traced by process %s (a debugger or strace?)'
                          % (pid, status['TracerPid']))
    if not os.path.isdir('/proc/%d/root/proc/sys' % pid):
        raise InjectError('internal', 'process %d has no /proc mounted; the injected code needs /proc/self/mem to '
                          'report to the injector' % pid)
    if 'shstk' in status.get('x86_Thread_features', ''):
        raise InjectError('unsupported-arch', 'process %d uses a shadow stack (CET), which the injector does not '
                          'support' % pid)


class Target(object):
    """What the injector needs to know about a process: addresses, version, C library."""

    def __init__(self, pid):
        self.pid = pid
        try:
            maps = ptrace_elf.read_maps(pid)
        except PermissionError:
            raise InjectError('permission-denied', 'cannot read /proc/%d/maps: not permitted to trace it' % pid)
        except OSError:
            raise InjectError('no-such-process', 'process %d exited' % pid)
        objects = ptrace_elf.loaded_objects(pid, maps)
        try:
            self.symbols, py_obj, libc_obj = ptrace_elf.resolve(objects, PY_FUNCTIONS, LIBC_FUNCTIONS, ('Py_Version',))
        except ptrace_elf.ElfError as exc:
            raise InjectError('unsupported-python', 'process %d: %s' % (pid, exc))
        finally:
            for obj in objects:
                obj.close()
        if py_obj is None:
            raise InjectError('not-python', 'process %d exports no CPython API (not a Python interpreter, or a build '
                              'without exported symbols)' % pid)
        if libc_obj is None:
            raise InjectError('unsupported-python', 'process %d: no C library with mmap/munmap/sigaltstack found' % pid)
        self.python_path, self.libc_path = py_obj.path, libc_obj.path
        self.libc_exec = libc_obj.exec_ranges
        self.python_exec = py_obj.exec_ranges
        for m in maps:
            if m.start <= MAGIC < m.end:
                raise InjectError('unsupported-python', 'process %d maps the page at 0x%x' % (pid, MAGIC))
        stack = [m for m in maps if m.path == '[stack]']
        self.stack = (stack[0].start, stack[0].end) if stack else None
        names = ptrace_elf.python_version_from_paths([py_obj.path, os.readlink('/proc/%d/exe' % pid)])
        self.version = names[:2] if names else None
        self.free_threaded = bool(names and names[2])
        self.version_address = self.symbols.get('Py_Version')
        self.initialized = False
        reader = Tracee(pid)   # reading code needs no stop
        self.gadgets = find_gadgets(reader, self.libc_exec) or find_gadgets(reader, self.python_exec)

    def check_version(self, tracee):
        if self.version_address:   # 3.11+: PY_VERSION_HEX, exact
            hexversion = struct.unpack('<Q', tracee.read(self.version_address, 8))[0]
            self.version = (hexversion >> 24 & 0xff, hexversion >> 16 & 0xff)
        if self.free_threaded:
            raise InjectError('unsupported-python', 'process %d runs a free-threaded build, not supported' % self.pid)
        if self.version is not None and not SUPPORTED[0] <= self.version <= SUPPORTED[1]:
            raise InjectError('unsupported-python', 'process %d runs Python %d.%d; the ptrace injector supports '
                              '%d.%d-%d.%d' % ((self.pid,) + self.version + SUPPORTED[0] + SUPPORTED[1]))


_targets = {}


def target_of(pid):
    """Target(pid), reused while the same process lives (its libraries do not move)."""
    try:
        key = (pid, _read('/proc/%d/stat' % pid).rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError):
        raise InjectError('no-such-process', 'process %d exited' % pid)
    if key not in _targets:
        if len(_targets) > 64:
            _targets.clear()
        _targets[key] = Target(pid)
    return _targets[key]


def build_source(page, code):
    return (TOP_SOURCE % (ascii(WRAPPER_SOURCE), '0x%016x' % page, ascii(code))).encode('ascii')


def page_size_for(code):
    return (HEADER + len(build_source(0, code)) + 1 + 4095) & ~4095


# ---------------------------------------------------------------------------------------------
# Read while the thread is held
# ---------------------------------------------------------------------------------------------


def sigblk(pid):
    return int(_status(pid).get('SigBlk', '0'), 16)


# ---------------------------------------------------------------------------------------------
# One injection
# ---------------------------------------------------------------------------------------------


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
        check_target(self.pid)
        self.target = target_of(self.pid)
        if self.target.version:
            self.report['version'] = '%d.%d' % self.target.version
        while True:
            if self._attempt(deadline):
                break
            if time.monotonic() >= deadline:
                raise InjectError('timeout', 'process %d: the pending-call lock stayed busy until the deadline' % self.pid)
            time.sleep(0.002)
        status = self._wait_status(lambda s: s[1:2] == b'S' and s[2:3] in (b'R', b'X'), deadline)
        if status is None:
            status = self._disarm()
        if status[2:3] != b'R':
            raise InjectError('timeout', 'process %d: the main thread reached no safe point within %.1f s (%s); the '
                              'code will not run' % (self.pid, deadline_seconds, self._where()))
        self.report['started'] = True
        self.report['startMs'] = round((time.monotonic() - begun) * 1000, 2)
        self.report['mainThread'] = status[4:5] == b'M'
        return self.report

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
        tracee = Tracee(self.pid)
        deadline = time.monotonic() + deadline_seconds
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
        if freed:
            self.page = None
            self.report['pageFreed'] = True
        return freed

    # --- inside ---------------------------------------------------------------------------

    def _tracee_for_reading(self):
        return Tracee(self.pid)   # process_vm_readv needs no attachment

    def _attempt(self, deadline):
        """One stop of the main thread. True once the code is queued or launched."""
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

    def _disarm(self):
        """Past the deadline: make sure the code never runs, unless it has just started."""
        reader = self._tracee_for_reading()
        reader.write(self.page, b'D')
        status = reader.read(self.page, STATUS_SIZE)
        if status[1:2] == b'S':   # the wrapper was deciding: its decision is final within moments
            status = self._wait_status(lambda s: s[2:3] in (b'R', b'X'), time.monotonic() + 2.0) or status
        return status

    def _where(self):
        try:
            syscall = _read('/proc/%d/task/%d/syscall' % (self.pid, self.pid)).split()
            wchan = _read('/proc/%d/task/%d/wchan' % (self.pid, self.pid)).strip()
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


def main(argv):
    import argparse
    import json
    parser = argparse.ArgumentParser(description='Run Python code in the main thread of a CPython 3.9-3.13 process.')
    parser.add_argument('pid', type=int)
    parser.add_argument('code')
    parser.add_argument('--deadline', type=float, default=10.0)
    parser.add_argument('--run', type=float, default=60.0)
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--no-direct', action='store_true')
    args = parser.parse_args(argv)
    ok = True
    for i in range(args.repeat):
        report = run_in_main_thread(args.pid, args.code.replace('{i}', str(i)), args.deadline, args.run,
                                    not args.no_direct)
        print(json.dumps(report, sort_keys=True))
        sys.stdout.flush()
        ok = ok and report['ok']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
