"""Permission to trace: the agent's capabilities, Yama, and why the kernel would refuse a target."""

import os

from .procfs import read_status, read_text_or_none, status_ids

CAP_SYS_PTRACE = 19


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


def trace_denial(status, environ_readable, caps):
    """(TRACE_DENIAL_CODES code, why) when the kernel will refuse process_vm_readv/writev on this
    process, else None.

    Mirrors __ptrace_may_access + Yama for PTRACE_MODE_ATTACH_REALCREDS: without CAP_SYS_PTRACE
    the agent needs the target's uids and gids to equal its own, the target's permitted
    capabilities to be a subset of its own, and Yama to allow it (scope 1 only lets an ancestor
    attach, which `kubectl exec` never is).
    """
    scope = caps['yamaPtraceScope']
    if scope is not None and scope >= 3:
        return 'yama-scope-3', 'no permission to trace it: Yama ptrace_scope=3 forbids attaching to any process'
    if caps['sysPtrace']:
        return None
    if scope == 2:
        return ('yama-scope-2',
                'no permission to trace it: Yama ptrace_scope=2 needs CAP_SYS_PTRACE, which the agent lacks')
    if scope == 1:
        return ('yama-scope-1', 'no permission to trace it: Yama ptrace_scope=1 lets only a parent attach '
                                'without CAP_SYS_PTRACE, which the agent lacks')
    uids, gids = status_ids(status, 'Uid'), status_ids(status, 'Gid')
    if uids and any(uid != caps['uid'] for uid in uids):
        return ('other-uid', 'no permission to trace it: it runs as uid %d, the agent as uid %d without '
                             'CAP_SYS_PTRACE' % (uids[0], caps['uid']))
    if gids and any(gid != caps['gid'] for gid in gids):
        return ('other-gid', 'no permission to trace it: it runs as gid %d, the agent as gid %d without '
                             'CAP_SYS_PTRACE' % (gids[0], caps['gid']))
    try:
        target_permitted = int(status.get('CapPrm', '0'), 16)
    except ValueError:
        target_permitted = 0
    if target_permitted & ~caps['permitted']:
        return ('more-capabilities',
                'no permission to trace it: it holds capabilities the agent lacks (and no CAP_SYS_PTRACE)')
    if not environ_readable:
        return 'proc-unreadable', 'no permission to trace it: its /proc entries are not readable by the agent'
    return None


def ptrace_denial(status, environ_readable, caps):
    """Why the kernel will refuse to trace this process (trace_denial's text), or None."""
    denial = trace_denial(status, environ_readable, caps)
    return denial[1] if denial else None
