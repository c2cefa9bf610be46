"""Target validation (inject, exec, stack) and the meaning of the helpers' error text."""

import os

from .events import AgentError
from .helper_python import probe_python
from .listing import ProcessFacts
from .procfs import process_exists, read_environ, read_stat, read_status, status_ids
from .python_facts import injector_for, ptrace_refusal, remote_debug_disabled_reason, too_old_reason
from .trace_probe import probe_trace
from .tracing import agent_capabilities


class Target(object):
    """A validated target process: Python 3.9+, ours to trace."""

    def __init__(self, pid, facts, version):
        self.pid = pid
        self.facts = facts
        self.version = version
        #: 'remote_exec' (3.14+) or 'ptrace' (3.9-3.13): how code gets into it
        self.injector = injector_for(version)
        self.exe_path = '/proc/%d/exe' % pid
        uids = status_ids(facts.status, 'Uid')
        gids = status_ids(facts.status, 'Gid')
        # files are opened with the filesystem ids (4th field)
        self.fsuid = uids[3] if len(uids) > 3 else (uids[0] if uids else os.getuid())
        self.fsgid = gids[3] if len(gids) > 3 else (gids[0] if gids else os.getgid())


def inspect_target(pid, need_remote_exec=True):
    """A Target, or AgentError with the code that explains why not."""
    stat = read_stat(pid) if pid > 0 else None
    if stat is None or pid == os.getpid():
        raise AgentError('no-such-process', 'no process %d in this container' % pid)
    facts = ProcessFacts(pid, stat)
    if not facts.is_python:
        name = facts.exe or (facts.argv[0] if facts.argv else '?')
        raise AgentError('not-python', 'process %d (%s) is not a Python interpreter' % (pid, name))
    caps = agent_capabilities()
    denial = probe_trace(pid, facts.status, facts.environ is not None, caps)
    if denial:
        raise AgentError('permission-denied', 'process %d: %s' % (pid, denial[1]), traceCode=denial[0])
    version, supported = probe_python('/proc/%d/exe' % pid)
    if version is None:
        if not process_exists(pid):
            raise AgentError('no-such-process', 'process %d exited' % pid)
        raise AgentError('internal', 'could not ask the interpreter of process %d for its version' % pid)
    too_old = too_old_reason(version)
    if too_old:
        raise AgentError('python-too-old', 'process %d: %s' % (pid, too_old))
    if injector_for(version) == 'ptrace':
        if need_remote_exec:
            refusal = ptrace_refusal(facts.environ, facts.xoptions)
            if refusal:
                raise AgentError(refusal[0], 'process %d: %s' % (pid, refusal[1]))
    elif need_remote_exec:
        if supported is False:
            raise AgentError('remote-debug-disabled',
                             'process %d: Python %s was built without remote debugging' % (pid, version))
        disabled = remote_debug_disabled_reason(facts.environ, facts.flags, facts.xoptions)
        if disabled:
            raise AgentError('remote-debug-disabled', 'process %d: remote debugging is disabled: %s' % (pid, disabled))
    return Target(pid, facts, version)


def error_from_helper(pid, stderr, what):
    """Map the error text of the injector or the stack reader to an AgentError."""
    text = stderr.strip() or 'no output'
    refused = refusal_of(pid, text)
    if refused:
        return refused
    if 'Remote debugging is not enabled in the remote process' in text:
        return AgentError('remote-debug-disabled', 'process %d has remote debugging disabled (%s)' % (pid, text))
    if 'Remote debugging is not enabled' in text:
        # the injector's side: it inherited PYTHON_DISABLE_REMOTE_DEBUG (helper_env() drops it)
        return AgentError('remote-debug-disabled', 'the injector has remote debugging disabled '
                          '(PYTHON_DISABLE_REMOTE_DEBUG inherited from the container environment?)')
    if "Can't send commands from a Python" in text or 'version mismatch' in text.lower():
        return AgentError('version-mismatch', text)
    if not process_exists(pid) or 'ProcessLookupError' in text or 'No such process' in text:
        return AgentError('no-such-process', 'process %d exited' % pid)
    if 'PermissionError' in text or 'Operation not permitted' in text or 'Permission denied' in text:
        return AgentError('permission-denied', 'not permitted to %s process %d: %s' % (what, pid, text))
    if 'Function not implemented' in text or 'ENOSYS' in text:
        return AgentError('internal', 'the kernel refuses to read process memory (process_vm_readv: ENOSYS; '
                                      'a gVisor sandbox?): %s' % text)
    if 'Script file does not exist' in text:
        return AgentError('internal', 'the injector could not see the script file; does the agent run in '
                                      "the target's container? (%s)" % text)
    return AgentError('internal', 'could not %s process %d: %s' % (what, pid, text))


#: CPython's words when the kernel refused its reads; a Yama refusal can read "Failed to find the
#: PyRuntime section" (python/cpython#149619), so the permission is tried again to name the cause
REFUSAL_MARKS = ('PermissionError', 'Operation not permitted', 'Permission denied', 'PyRuntime section')


def refusal_of(pid, text):
    """AgentError('permission-denied') naming the real cause, when the helper failed for want of it."""
    if not any(mark in text for mark in REFUSAL_MARKS):
        return None
    status = read_status(pid)
    if status is None:
        return None
    denial = probe_trace(pid, status, read_environ(pid) is not None, agent_capabilities())
    if denial is None:
        return None
    return AgentError('permission-denied', 'process %d: %s' % (pid, denial[1]), traceCode=denial[0])
