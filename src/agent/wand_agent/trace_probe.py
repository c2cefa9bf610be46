"""May the agent trace a process? Learned by trying: one word of its memory read with process_vm_readv.

The kernel checks process_vm_readv as sys.remote_exec's own reads and writes
(PTRACE_MODE_ATTACH_REALCREDS in mm/process_vm_access.c: mm_access() fails with EACCES, turned
into EPERM), after the LSMs (Yama) and the seccomp filter had their say. Reading one word changes
nothing in the target. When the read is refused the cause is named from what the agent can read:
Yama's scope, its own CapEff, its seccomp mode, the target's ids, dumpability and capabilities.
"""

import os

from .procfs import read_stat, read_status, read_text_or_none, status_ids
from .tracing import trace_denial

#: why the kernel refused (TraceDenialCode) beyond what trace_denial() predicts from ids and Yama
SECCOMP_WHY = ('no permission to trace it: the agent runs under a seccomp filter (Seccomp: 2) that refuses '
               'process_vm_readv without CAP_SYS_PTRACE (containerd 1.6 and CRI-O default profiles do)')
NOT_DUMPABLE_WHY = ('no permission to trace it: it is not dumpable (it called prctl(PR_SET_DUMPABLE, 0) or '
                    'changed credentials), which only CAP_SYS_PTRACE overrides')
UNKNOWN_WHY = ('no permission to trace it: the kernel refused to read its memory (EPERM) for a reason the '
               'agent cannot read (an AppArmor or SELinux policy?)')
NO_SYSCALL_WHY = ('no permission to trace it: the kernel does not implement process_vm_readv here '
                  '(ENOSYS: a gVisor sandbox?)')


class _Syscall(object):
    fn = None
    iovec = None
    loaded = False


def _load():
    """libc's process_vm_readv through ctypes, or None when ctypes or the symbol is missing."""
    if _Syscall.loaded:
        return _Syscall.fn
    _Syscall.loaded = True
    try:
        import ctypes

        class iovec(ctypes.Structure):
            _fields_ = [('iov_base', ctypes.c_void_p), ('iov_len', ctypes.c_size_t)]

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.process_vm_readv
        fn.restype = ctypes.c_ssize_t
        fn.argtypes = [ctypes.c_int, ctypes.POINTER(iovec), ctypes.c_ulong,
                       ctypes.POINTER(iovec), ctypes.c_ulong, ctypes.c_ulong]
        _Syscall.fn, _Syscall.iovec = fn, iovec
    except (ImportError, OSError, AttributeError):
        _Syscall.fn = None
    return _Syscall.fn


def probe_address(pid):
    """A mapped address of the target: its first readable mapping, else any page (the permission is
    checked before the address: a refused read fails with EPERM, an unmapped one with EFAULT)."""
    text = read_text_or_none('/proc/%d/maps' % pid) or ''
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1].startswith('r'):
            try:
                return int(fields[0].split('-')[0], 16)
            except ValueError:
                break
    return 0x10000


#: (pid, its /proc/PID/stat start time) -> read_one_word's answer: a watch lists every 50 ms, and a
#: process's permission does not change while it lives (its credentials would: then it is re-read)
_answers = {}


def read_one_word_once(pid, status):
    stat = read_stat(pid)
    key = (pid, status.get('Uid'), status.get('Gid'), status.get('CapPrm'), stat['starttime'] if stat else None)
    if key not in _answers:
        if len(_answers) > 4096:
            _answers.clear()
        _answers[key] = read_one_word(pid)
    return _answers[key]


def read_one_word(pid):
    """0 when the read went through (or failed only on the address), else the errno; None when the
    probe cannot run here (no ctypes)."""
    fn = _load()
    if fn is None:
        return None
    import ctypes
    import errno
    buf = ctypes.create_string_buffer(8)
    local = _Syscall.iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
    remote = _Syscall.iovec(ctypes.c_void_p(probe_address(pid)), 8)
    if fn(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) >= 0:
        return 0
    err = ctypes.get_errno()
    return 0 if err == errno.EFAULT else err


def agent_seccomp_mode():
    status = read_status('self') or {}
    try:
        return int(status.get('Seccomp', '0'))
    except ValueError:
        return 0


def non_dumpable(pid, status):
    """The kernel shows a non-dumpable process's /proc/PID as root's (task_dump_owner)."""
    uids = status_ids(status, 'Uid')
    try:
        owner = os.stat('/proc/%d' % pid).st_uid
    except OSError:
        return False
    return bool(uids) and uids[1] != 0 and owner == 0


def explain_refusal(pid, status, environ_readable, caps):
    """(code, why) for a read the kernel refused with EPERM: the most telling readable cause."""
    predicted = trace_denial(status, environ_readable, caps)
    if predicted and predicted[0] != 'proc-unreadable':
        return predicted
    if not caps['sysPtrace'] and non_dumpable(pid, status):
        return 'not-dumpable', NOT_DUMPABLE_WHY
    if not caps['sysPtrace'] and agent_seccomp_mode() == 2:
        return 'seccomp', SECCOMP_WHY
    return predicted or ('unknown', UNKNOWN_WHY)


def probe_trace(pid, status, environ_readable, caps):
    """(TraceDenialCode, why) when the agent may not trace `pid`, else None. Tried, not predicted:
    only when the probe cannot run (no ctypes) does the prediction from ids and Yama decide."""
    import errno
    result = read_one_word_once(pid, status)
    if result is None:
        return trace_denial(status, environ_readable, caps)
    if result == 0 or result == errno.ESRCH:
        return None  # a process that is gone is reported as such by whoever needs it
    if result == errno.ENOSYS:
        return 'no-process-vm', NO_SYSCALL_WHY
    if result in (errno.EPERM, errno.EACCES):
        return explain_refusal(pid, status, environ_readable, caps)
    return 'unknown', 'no permission to trace it: process_vm_readv failed: %s' % os.strerror(result)
