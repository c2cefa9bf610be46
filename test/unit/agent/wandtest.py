"""Helpers for the agent's tests: run the agent as the CLI does, and throwaway "containers".

A Container is what `kubectl exec` enters: a PID 1 (`sleep infinity`) in fresh PID and mount
namespaces, chrooted into an image root filesystem that is bind-mounted read-only (so nothing can
modify it, as with a `readOnlyRootFilesystem` pod), with a private tmpfs on /tmp and its own /proc.
Processes are started in it with nsenter, as `kubectl exec` would. The network namespace is the
host's, so the tests reach 127.0.0.1 listeners directly.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
#: the agent's modules: `from wand_agent import procfs` in the unit tests
AGENT_PACKAGE_PARENT = os.path.join(REPO, 'src', 'agent')
AGENT_PACKAGE_DIR = os.path.join(AGENT_PACKAGE_PARENT, 'wand_agent')
CONTRACT_PATH = os.path.join(REPO, 'src', 'agent', 'contract.ts')
TEST_ROOT = os.environ.get('WAND_TEST_ROOT')
if AGENT_PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, AGENT_PACKAGE_PARENT)

_assembled = []


def agent_source():
    """The one program the CLI streams into the pod (bytes), assembled from the package by
    scripts/assemble-agent.ts exactly as `npm run build` does; once per test process."""
    if not _assembled:
        tsx = os.path.join(REPO, 'node_modules', '.bin', 'tsx')
        if not os.path.exists(tsx):
            raise AssertionError('%s is missing: run npm ci (the agent is assembled by scripts/assemble-agent.ts)' % tsx)
        proc = subprocess.run([tsx, os.path.join(REPO, 'scripts', 'assemble-agent.ts'), '--stdout'], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120)
        if proc.returncode != 0:
            raise AssertionError('assembling the agent failed:\n' + proc.stderr.decode(errors='replace'))
        _assembled.append(proc.stdout)
    return _assembled[0]


def agent_program(request):
    """The exact bytes the CLI writes to `python3 -`: the agent, then the main(...) line."""
    encoded = base64.b64encode(json.dumps(request).encode()).decode()
    return agent_source() + ('\nmain("%s")\n' % encoded).encode()


class AgentRun(object):
    def __init__(self, returncode, stdout, stderr, seconds):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.events = [json.loads(line) for line in stdout.splitlines() if line.strip()]

    @property
    def last(self):
        return self.events[-1]

    @property
    def result(self):
        if self.last.get('event') != 'result':
            raise AssertionError('agent failed: %r\nstderr: %s' % (self.last, self.stderr))
        return self.last['result']

    def of_kind(self, kind):
        return [e for e in self.events if e.get('event') == kind]


def run_agent(request, command=None, timeout=120):
    command = command or [sys.executable, '-']
    program = agent_program(request)  # assembled once per test process: not part of the agent's time
    begun = time.monotonic()
    proc = subprocess.run(command, input=program, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return AgentRun(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), time.monotonic() - begun)


def session_bootstrap():
    """SESSION_BOOTSTRAP from contract.ts: the tests run exactly what the CLI runs."""
    with open(CONTRACT_PATH) as f:
        return re.search(r"SESSION_BOOTSTRAP =\s*'([^']*)'", f.read()).group(1)


class Session(object):
    """The agent in session mode as the CLI starts it: `python3 -c SESSION_BOOTSTRAP`, then agent.py
    in base64 on the first stdin line. Every event is kept with its arrival time (time.monotonic)."""

    def __init__(self, command=None):
        command = command or [sys.executable]
        self.proc = subprocess.Popen(command + ['-c', session_bootstrap()], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.log = []  # (arrival time, event); None marks the end of stdout
        self.stderr = b''
        self.changed = threading.Condition()
        self.next_id = 1
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.proc.stdin.write(base64.b64encode(agent_source()) + b'\n')
        self.proc.stdin.flush()
        self.ready = self.wait_event(lambda e: e['event'] == 'ready', timeout=20)

    def _read_stdout(self):
        for line in self.proc.stdout:
            self._append(json.loads(line))
        self._append(None)

    def _read_stderr(self):
        self.stderr = self.proc.stderr.read()

    def _append(self, event):
        with self.changed:
            self.log.append((time.monotonic(), event))
            self.changed.notify_all()

    def send(self, request):
        """Write one request (an id is added unless present); returns its id."""
        if 'id' not in request:
            request = dict(request, id=self.next_id)
            self.next_id += 1
        self.write_line(json.dumps(request).encode())
        return request['id']

    def write_line(self, data):
        self.proc.stdin.write(data + b'\n')
        self.proc.stdin.flush()

    def wait_event(self, predicate, timeout=10.0, after=0, with_time=False):
        """The first event (from log index `after`) matching predicate."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for at, event in self.log[after:]:
                    if event is not None and predicate(event):
                        return (at, event) if with_time else event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.log and self.log[-1][1] is None):
                    raise AssertionError('no such event; got %r\nstderr: %s'
                                         % ([e for _, e in self.log], self.stderr.decode(errors='replace')))
                self.changed.wait(remaining)

    def final(self, request_id, timeout=30.0):
        """The result or error event of a request."""
        return self.wait_event(lambda e: e.get('id') == request_id and e['event'] in ('result', 'error'), timeout)

    def request(self, request, timeout=30.0):
        event = self.final(self.send(request), timeout)
        if event['event'] != 'result':
            raise AssertionError('request failed: %r' % event)
        return event['result']

    def events_of(self, request_id):
        with self.changed:
            return [e for _, e in self.log if e is not None and e.get('id') == request_id]

    def end_input(self, timeout=5.0):
        """Close stdin as the CLI does; returns (exit status, seconds until the agent exited)."""
        begun = time.monotonic()
        self.proc.stdin.close()
        code = self.proc.wait(timeout)
        return code, time.monotonic() - begun

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.05, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('timed out waiting for ' + what)


def ns_pid(host_pid):
    """PID of a host process inside its own (innermost) PID namespace."""
    with open('/proc/%d/status' % host_pid) as f:
        for line in f:
            if line.startswith('NSpid:'):
                return int(line.split()[-1])
    raise AssertionError('no NSpid')


def children(host_pid):
    result = []
    for task in os.listdir('/proc/%d/task' % host_pid):
        with open('/proc/%d/task/%s/children' % (host_pid, task)) as f:
            result.extend(int(p) for p in f.read().split())
    return result


def container_supported():
    return (TEST_ROOT is not None and os.geteuid() == 0 and shutil.which('unshare') is not None
            and shutil.which('nsenter') is not None
            and os.path.exists(os.path.join(TEST_ROOT, 'usr', 'bin', 'python3.14')))


def requires_container(test_item):
    return unittest.skipUnless(container_supported(),
                               'set WAND_TEST_ROOT to a root filesystem with python3.14 (run as root)')(test_item)


class ContainerProcess(object):
    def __init__(self, popen, host_pid, log_path):
        self.popen = popen  # the nsenter process on the host
        self.host_pid = host_pid
        self.pid = ns_pid(host_pid)
        self.log_path = log_path

    def log(self):
        with open(self.log_path, 'r', errors='replace') as f:
            return f.read()

    def stop(self):
        if self.popen.poll() is None:
            if self.host_pid:
                try:
                    os.kill(self.host_pid, 9)
                except OSError:
                    pass
            self.popen.kill()
        self.popen.wait()


class Container(object):
    def __init__(self, root, log_dir):
        self.root = root
        self.log_dir = log_dir
        script = (
            'set -e; R="$1"; mount --bind "$R" "$R"; mount -o remount,bind,ro "$R"; '
            'mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"; mount -t proc proc "$R/proc"; '
            'exec chroot "$R" sleep infinity')
        self.popen = subprocess.Popen(
            ['unshare', '--pid', '--fork', '--kill-child', '--mount', '--propagation', 'private',
             'sh', '-c', script, 'container', root],
            stdin=subprocess.DEVNULL)
        self.pid1 = wait_for(lambda: self._find_pid1(), what='container PID 1')
        self.processes = []

    def _find_pid1(self):
        if self.popen.poll() is not None:
            raise AssertionError('container failed to start')
        for child in children(self.popen.pid):
            try:
                if os.readlink('/proc/%d/exe' % child).endswith('/sleep') and \
                        os.path.exists('/proc/%d/root/tmp' % child) and \
                        os.readlink('/proc/%d/root' % child) != '/':
                    return child
            except OSError:
                pass
        return None

    def enter_command(self, uid=None, gid=None):
        command = ['nsenter', '-t', str(self.pid1), '-p', '-m', '-r', '-w']
        if uid is not None:
            command += ['-S', str(uid), '-G', str(gid if gid is not None else uid)]
        return command

    def start(self, argv, uid=None, env=None, name='proc'):
        """Start a process in the container (like a container's own process); wait until it runs."""
        log_path = os.path.join(self.log_dir, '%s-%d.log' % (name, len(self.processes)))
        log = open(log_path, 'wb')
        full_env = {'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': '/root', 'LANG': 'C.UTF-8'}
        full_env.update(env or {})
        popen = subprocess.Popen(self.enter_command(uid) + ['env', '-i'] +
                                 ['%s=%s' % kv for kv in sorted(full_env.items())] + list(argv),
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def started():
            kids = children(popen.pid)
            if not kids:
                return None
            try:
                exe = os.readlink('/proc/%d/exe' % kids[0])
            except OSError:
                return None
            return kids[0] if not exe.endswith('/env') else None
        host_pid = wait_for(started, what='process start')
        proc = ContainerProcess(popen, host_pid, log_path)
        self.processes.append(proc)
        return proc

    def python(self, code, interpreter='python3', options=(), env=None, uid=None, name='py', ready=None):
        """Start `interpreter [options] -c code`; `ready` is a log line to wait for."""
        proc = self.start([interpreter] + list(options) + ['-u', '-c', code], uid=uid, env=env, name=name)
        if ready:
            wait_for(lambda: ready in proc.log(), what=ready + ' in ' + proc.log_path)
        return proc

    def session(self, uid=None, interpreter='python3'):
        return Session(self.enter_command(uid) + [interpreter])

    def agent(self, request, uid=None, timeout=120, interpreter='python3'):
        return run_agent(request, self.enter_command(uid) + [interpreter, '-'], timeout=timeout)

    def run(self, argv, uid=None):
        return subprocess.run(self.enter_command(uid) + list(argv), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    def tmp_entries(self):
        return sorted(os.listdir('/proc/%d/root/tmp' % self.pid1))

    def host_path(self, path):
        return '/proc/%d/root%s' % (self.pid1, path)

    def stop(self):
        for proc in self.processes:
            proc.stop()
        self.popen.kill()
        self.popen.wait()


def assert_pending_payload_disarmed(test, container, sleeper):
    """After an exec given up while pending in `sleeper` (which logs "SHOULD NOT RUN" if it runs):
    the pending payload was replaced by /dev/null in the target, so nothing of ours is left, and
    when the target wakes (SIGUSR1) it runs nothing and logs nothing."""
    test.assertEqual([e for e in container.tmp_entries() if e.startswith('wand-') and 'debugpy' not in e], [])
    os.kill(sleeper.host_pid, signal.SIGUSR1)
    time.sleep(0.5)
    test.assertNotIn('SHOULD NOT RUN', sleeper.log())
    test.assertNotIn('debugger script', sleeper.log())


HOST_VERSION = '%d.%d.%d' % sys.version_info[:3]
READY_AND_SLEEP = 'import sys, time; print("ready", flush=True); time.sleep(60)'


def spawn_python(code, options=(), env=None, argv_tail=()):
    """A child of this interpreter running `code`, stdout piped (see wait_ready)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen([sys.executable] + list(options) + ['-c', code] + list(argv_tail),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=full_env)
    return proc


def wait_ready(proc):
    line = proc.stdout.readline()
    if not line.startswith(b'ready'):
        raise AssertionError('child did not start: %r' % line)


def sleeper():
    """A Python child that printed "ready" and sleeps for 10 minutes."""
    proc = spawn_python('import time; print("ready", flush=True); time.sleep(600)')
    wait_ready(proc)
    return proc


def stop(*procs):
    for proc in procs:
        if proc is None:
            continue
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
