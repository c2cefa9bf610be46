"""The ptrace injector's view of a process before touching it: refusals, symbols, version.

Part of the ptrace injector for CPython 3.9-3.13 on x86_64 (ptrace_inject.md next to this file):
reads /proc and the ELF files the process mapped; stops nothing. Python 3.9+, standard library only.
"""

import os
import struct

from .ptrace_elf import EM_X86_64, ElfError, loaded_objects, python_version_from_paths, read_maps, resolve
from .ptrace_x86 import MAGIC, Tracee, find_gadgets
from .python_facts import DISABLE_ENV

PTRACE_VERSIONS = ((3, 9), (3, 13))

PY_FUNCTIONS = ('Py_IsInitialized', 'PyGILState_Check', 'PyGILState_Ensure', 'PyGILState_Release',
                'PyRun_SimpleString', 'Py_AddPendingCall')
LIBC_FUNCTIONS = ('mmap', 'munmap', 'sigaltstack')

SYS_MMAP = 9
SYS_MUNMAP = 11
SYS_SIGALTSTACK = 131
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
ERESTARTSYS = 512
ERESTARTNOINTR = 513
ERESTARTNOHAND = 514
ERESTART_RESTARTBLOCK = 516
EINTR = 4


class InjectError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code, self.message = code, message



# ---------------------------------------------------------------------------------------------
# Before touching the process
# ---------------------------------------------------------------------------------------------


def read_proc(path, mode='r'):
    with open(path, mode) as f:
        return f.read()


def proc_status(pid):
    fields = {}
    for line in read_proc('/proc/%d/status' % pid).splitlines():
        key, _, value = line.partition(':')
        fields[key] = value.strip()
    return fields


def check_target(pid, machine=None):
    """Refuse early, with the most telling reason, what this injector must not touch."""
    machine = machine or os.uname()[4]
    if machine != 'x86_64':
        raise InjectError('unsupported-arch', 'the ptrace injector supports x86_64 only, not %s' % machine)
    try:
        status = proc_status(pid)
    except OSError:
        raise InjectError('no-such-process', 'no process %d' % pid)
    try:
        with open('/proc/%d/exe' % pid, 'rb') as f:
            head = f.read(20)
        if head[:4] == b'\x7fELF' and (head[4] != 2 or struct.unpack_from('<H', head, 18)[0] != EM_X86_64):
            raise InjectError('unsupported-arch', 'process %d is not a 64-bit x86_64 program' % pid)
    except OSError:
        pass
    try:
        environ = read_proc('/proc/%d/environ' % pid, 'rb').split(b'\0')
        argv = read_proc('/proc/%d/cmdline' % pid, 'rb').split(b'\0')
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


class PtraceProcess(object):
    """What the injector needs to know about a process: addresses, version, C library."""

    def __init__(self, pid):
        self.pid = pid
        try:
            maps = read_maps(pid)
        except PermissionError:
            raise InjectError('permission-denied', 'cannot read /proc/%d/maps: not permitted to trace it' % pid)
        except OSError:
            raise InjectError('no-such-process', 'process %d exited' % pid)
        objects = loaded_objects(pid, maps)
        try:
            self.symbols, py_obj, libc_obj = resolve(objects, PY_FUNCTIONS, LIBC_FUNCTIONS, ('Py_Version',))
        except ElfError as exc:
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
        names = python_version_from_paths([py_obj.path, os.readlink('/proc/%d/exe' % pid)])
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
        if self.version is not None and not PTRACE_VERSIONS[0] <= self.version <= PTRACE_VERSIONS[1]:
            raise InjectError('unsupported-python', 'process %d runs Python %d.%d; the ptrace injector supports '
                              '%d.%d-%d.%d' % ((self.pid,) + self.version + PTRACE_VERSIONS[0] + PTRACE_VERSIONS[1]))


_targets = {}


def target_of(pid):
    """PtraceProcess(pid), reused while the same process lives (its libraries do not move)."""
    try:
        key = (pid, read_proc('/proc/%d/stat' % pid).rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError):
        raise InjectError('no-such-process', 'process %d exited' % pid)
    if key not in _targets:
        if len(_targets) > 64:
            _targets.clear()
        _targets[key] = PtraceProcess(pid)
    return _targets[key]



def sigblk(pid):
    return int(proc_status(pid).get('SigBlk', '0'), 16)
