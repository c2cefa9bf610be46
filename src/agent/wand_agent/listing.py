"""Process records (list): every process of the container with why it can or cannot be debugged."""

import os
import sys
import time

from .ephemeral import in_debugger_container
from .helper_python import (PROBE_SOURCE, PROBE_TIMEOUT_SECONDS, file_identity, finish_process, own_answers,
                            parse_probe_output, python_version, start_target_python)
from .procfs import (list_pids, process_exists, read_cmdline, read_environ, read_passwd, read_rss_bytes,
                     read_stat, read_status, read_uptime_seconds, readlink_or_none, reported_env, status_ids)
from .python_facts import (injector_for, is_python_executable, parse_python_options, ptrace_refusal,
                           remote_debug_disabled, too_old_reason)
from .sockets import find_debugpy_ports
from .trace_probe import probe_trace
from .tracing import agent_capabilities, public_capabilities


def exe_identity(pid):
    """(st_dev, st_ino) of the process's executable: one version probe per distinct binary."""
    return file_identity('/proc/%d/exe' % pid)


def redact_argv(argv):
    """debugpy's adapter receives a server access token on its command line: never show it."""
    redacted = list(argv)
    for i, arg in enumerate(redacted[:-1]):
        if arg == '--server-access-token':
            redacted[i + 1] = '***'
    return redacted


class ProcessFacts(object):
    """Everything read about one process except CPU% and the Python version."""

    def __init__(self, pid, stat):
        self.pid = pid
        self.stat = stat
        self.status = read_status(pid) or {}
        self.argv = read_cmdline(pid)
        self.exe = readlink_or_none('/proc/%d/exe' % pid)
        self.environ = read_environ(pid)
        self.cwd = readlink_or_none('/proc/%d/cwd' % pid)
        self.is_python = is_python_executable(self.exe or (self.argv[0] if self.argv else None))
        self.flags, self.xoptions = parse_python_options(self.argv) if self.is_python else (set(), [])
        uids = status_ids(self.status, 'Uid')
        self.uid = uids[0] if uids else -1

    def unusable(self, caps, version, supported):
        """(AgentErrorCode, why) when kubectl-wand cannot inject this process, else None. Cheapest and
        most telling first; the codes are those inspect_target() raises for the same cause."""
        if not self.is_python:
            return 'not-python', 'not a Python process'
        self.trace_code = None
        denial = probe_trace(self.pid, self.status, self.environ is not None, caps)
        if denial:
            self.trace_code = denial[0]
            # what a tracer allowed in (a debugger container) would find: it may skip its own listing
            self.if_traced = self.unusable_if_traced(version, supported)
            return 'permission-denied', denial[1]
        return self.unusable_if_traced(version, supported)

    def unusable_if_traced(self, version, supported):
        if version is None:
            return 'internal', 'could not ask its interpreter for its Python version'
        too_old = too_old_reason(version)
        if too_old:
            return 'python-too-old', too_old
        if injector_for(version) == 'ptrace':
            return ptrace_refusal(self.environ, self.xoptions)
        if supported is False:
            return 'remote-debug-disabled', 'Python %s was built without remote debugging support' % version
        disabled = remote_debug_disabled(self.environ, self.flags, self.xoptions)
        if disabled:
            return 'remote-debug-disabled', disabled[1]
        return None

    def record(self, users, uptime, cpu_percent, version, supported, caps, debugpy_port):
        reason_code, reason = self.unusable(caps, version, supported) or (None, None)
        clk_tck = os.sysconf('SC_CLK_TCK')
        return {
            'pid': self.pid,
            'ppid': self.stat['ppid'],
            'uid': self.uid,
            'user': users.get(self.uid, str(self.uid)),
            'argv': redact_argv(self.argv),
            'exe': self.exe,
            'isPython': self.is_python,
            'python': version if self.is_python else None,
            'cpuPercent': round(cpu_percent, 1),
            'rssBytes': read_rss_bytes(self.pid),
            'uptimeSeconds': round(max(0.0, uptime - self.stat['starttime'] / float(clk_tck)), 2),
            'cwd': self.cwd,
            'env': reported_env(self.environ),
            'xOptions': self.xoptions,
            'debuggable': reason is None,
            'reason': reason,
            'reasonCode': reason_code,
            'traceDeniedCode': getattr(self, 'trace_code', None),
            'ifTraced': self.if_traced_record(),
            'debugpyPort': debugpy_port,
            'injector': injector_for(version) if self.is_python else None,
        }

    def if_traced_record(self):
        if getattr(self, 'trace_code', None) is None:
            return None
        reason_code, reason = getattr(self, 'if_traced', None) or (None, None)
        return {'debuggable': reason is None, 'reason': reason, 'reasonCode': reason_code}


#: exe identity -> (version, remote debug supported) of the interpreters asked so far: a session
#: lists often, and a binary's version does not change
_known_versions = {}


def start_version_probes(pids):
    """(identity -> probe process or None, pid -> identity) for the Python processes among `pids`."""
    probes, identity_by_pid = {}, {}
    for pid in pids:
        if not is_python_executable(readlink_or_none('/proc/%d/exe' % pid)):
            continue
        identity = exe_identity(pid)
        if identity is None:
            continue
        identity_by_pid[pid] = identity
        if identity not in probes and identity not in _known_versions:
            known = own_answers(identity)
            if known is not None:
                _known_versions[identity] = known
                continue
            try:
                probes[identity] = start_target_python('/proc/%d/exe' % pid, PROBE_SOURCE)
            except OSError:
                probes[identity] = None
    return probes, identity_by_pid


def finish_version_probes(probes, deadline):
    """identity -> (version, supported) for these probes and every interpreter asked before."""
    versions = dict(_known_versions)
    for identity, proc in probes.items():
        version = (None, None)
        if proc is not None:
            code, out, _ = finish_process(proc, deadline - time.monotonic())
            version = parse_probe_output(out) if code == 0 else (None, None)
        if version[0] is not None:
            _known_versions[identity] = version
        versions[identity] = version
    return versions


def cpu_percentages(first, started, sample_seconds):
    """pid -> CPU% over the sample interval (0 without sampling); processes gone by then are left out."""
    if sample_seconds <= 0:
        return dict((pid, 0.0) for pid in first if process_exists(pid))
    time.sleep(max(0.0, started + sample_seconds - time.monotonic()))
    elapsed = time.monotonic() - started
    clk_tck = float(os.sysconf('SC_CLK_TCK'))
    cpu = {}
    for pid, stat in first.items():
        second = read_stat(pid)
        if second is not None and elapsed > 0:
            cpu[pid] = max(0.0, (second['ticks'] - stat['ticks']) / clk_tck / elapsed * 100.0)
    return cpu


def list_processes(sample_seconds):
    """ListResult. Version probes of the interpreters run during the CPU sampling interval."""
    caps = agent_capabilities()
    own_pid = os.getpid()
    started = time.monotonic()
    first = {}
    for pid in list_pids():
        if pid == own_pid or in_debugger_container(pid):
            continue
        stat = read_stat(pid)
        if stat is not None and stat['ppid'] != own_pid:
            first[pid] = stat

    probes, identity_by_pid = start_version_probes(first)
    facts = dict((pid, ProcessFacts(pid, stat)) for pid, stat in first.items())
    users = read_passwd()
    debugpy_ports = find_debugpy_ports(dict((pid, f.argv) for pid, f in facts.items()))
    cpu = cpu_percentages(first, started, sample_seconds)
    versions = finish_version_probes(probes, started + max(sample_seconds, 0) + PROBE_TIMEOUT_SECONDS)

    uptime = read_uptime_seconds()
    records = []
    for pid, f in sorted(facts.items()):
        if pid not in cpu:  # exited during the sample
            continue
        version, supported = versions.get(identity_by_pid.get(pid), (None, None))
        records.append(f.record(users, uptime, cpu[pid], version, supported, caps, debugpy_ports.get(pid)))
    return {
        'op': 'list',
        'agentPython': python_version(),
        'capabilities': public_capabilities(caps),
        'processes': records,
    }
