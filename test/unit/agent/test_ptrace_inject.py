"""The ptrace injector (src/agent/wand_agent/ptrace_*.py) against real CPython 3.9-3.13 processes.

Every live test starts ptrace_target.py under one interpreter of this machine (pyenv builds in
/root/.pyenv/versions; a version is skipped only when its interpreter is absent), hammers its line
server from a client thread that counts errors, injects code that appends "<n>:<in main thread>"
to a marker file, and checks: every injection reported ok, every marker line says main thread,
zero request errors, the SIGALRM ticks keep coming, the process is alive and no longer traced.
Figures (route, time the main thread was held, time to start, requests, ticks/s) go to stderr.

WAND_PTRACE_LONG=1: 100 injections in a row into the "cycle" target of every version (by default
only of the newest one present).
"""

import ctypes
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
AGENT_DIR = os.path.join(REPO, 'src', 'agent')
TARGET = os.path.join(HERE, 'ptrace_target.py')
CLI = os.path.join(HERE, 'ptrace_cli.py')
sys.path.insert(0, HERE)

import wandtest  # noqa: E402
from wand_agent import ptrace_elf, ptrace_inject, ptrace_process, ptrace_x86  # noqa: E402
from wand_agent.ptrace_inject import Injection, run_in_main_thread  # noqa: E402
from wand_agent.ptrace_process import InjectError  # noqa: E402
from wandtest import requires_container  # noqa: E402

PYENV = os.environ.get('WAND_PTRACE_PYENV', '/root/.pyenv/versions')
VERSIONS = ('3.9', '3.10', '3.11', '3.12', '3.13')
LONG = os.environ.get('WAND_PTRACE_LONG') == '1'
X86_64 = os.uname()[4] == 'x86_64'
RAN, SKIPPED = [], []

PAYLOAD = ("import threading, __main__\n"
           "with open(%r, 'a') as f:\n"
           "    f.write('%%d:%%d\\n' %% (N, threading.get_ident() == __main__.MAIN))\n")


def interpreter(version):
    found = sorted(glob.glob(os.path.join(PYENV, version + '.*', 'bin', 'python' + version)))
    return found[-1] if found else None


def newest_version():
    present = [v for v in VERSIONS if interpreter(v)]
    return present[-1] if present else None


def wait_blocked(pid, syscall):
    """Until the main thread of `pid` is blocked in `syscall` (a number)."""
    def blocked():
        with open('/proc/%d/task/%d/syscall' % (pid, pid)) as f:
            return f.read().split()[0] == str(syscall)
    wandtest.wait_for(blocked, timeout=20, what='main thread of %d in syscall %d' % (pid, syscall))


def note(text):
    sys.stderr.write('\n    [ptrace] %s' % text)
    sys.stderr.flush()


class App(object):
    """ptrace_target.py running MODE under one interpreter."""

    def __init__(self, python, mode, workdir, extra=()):
        self.log_path = os.path.join(workdir, 'app-%s.log' % mode)
        self.log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen([python, '-u', TARGET, mode] + list(extra), stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.pid = self.proc.pid
        line = self.readline(20)
        if not line.startswith(b'READY'):
            raise AssertionError('target did not start: %r %s' % (line, self.stderr()))
        self.port = int(line.split()[1])

    def readline(self, timeout):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result else b''

    def stderr(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode(errors='replace')

    def stats(self):
        with socket.create_connection(('127.0.0.1', self.port), timeout=10) as s:
            s.sendall(b'stats\n')
            return json.loads(s.makefile('rb').readline())

    def status(self):
        with open('/proc/%d/status' % self.pid) as f:
            return dict(line.split(':', 1) for line in f.read().splitlines() if ':' in line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class Hammer(threading.Thread):
    """A client sending "ping" without pause (a new connection every 25 requests), counting errors."""

    def __init__(self, port):
        threading.Thread.__init__(self, daemon=True)
        self.port, self.ok, self.errors, self.last_error, self.worst = port, 0, 0, None, 0.0
        self.halt = threading.Event()

    def run(self):
        conn = None
        while not self.halt.is_set():
            try:
                if conn is None or self.ok % 25 == 0:
                    if conn is not None:
                        conn.close()
                    conn = socket.create_connection(('127.0.0.1', self.port), timeout=20)
                    stream = conn.makefile('rwb', buffering=0)
                begun = time.monotonic()
                stream.write(b'ping\n')
                if stream.readline() != b'pong\n':
                    raise IOError('bad answer')
                self.worst = max(self.worst, time.monotonic() - begun)
                self.ok += 1
            except (OSError, IOError) as exc:
                self.errors += 1
                self.last_error = repr(exc)
                conn = None
            time.sleep(0.001)
        if conn is not None:
            conn.close()

    def finish(self):
        self.halt.set()
        self.join(30)


class LiveBase(object):
    """The live tests, made a TestCase once per version below."""
    version = None

    def setUp(self):
        if not X86_64:
            self.skipTest('the ptrace injector is x86_64 only')
        self.python = interpreter(self.version)
        if self.python is None:
            self.skipTest('no Python %s interpreter under %s' % (self.version, PYENV))
        if self.version not in RAN:
            RAN.append(self.version)
        self.workdir = tempfile.mkdtemp(prefix='wand-ptrace-test-')
        self.apps = []

    def tearDown(self):
        for app in self.apps:
            app.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, mode, extra=()):
        app = App(self.python, mode, self.workdir, extra)
        self.apps.append(app)
        return app

    def code(self, n):
        payload = os.path.join(self.workdir, 'payload.py')
        if not os.path.exists(payload):
            with open(payload, 'w') as f:
                f.write(PAYLOAD % os.path.join(self.workdir, 'marker'))
        # the 3.14 route's shape: the payload is a file the code runs
        return 'N = %d\nexec(open(%r).read())' % (n, payload)

    def markers(self):
        try:
            with open(os.path.join(self.workdir, 'marker')) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def assert_healthy(self, app, check_ticks=True):
        self.assertIsNone(app.proc.poll(), 'the target died: ' + app.stderr())
        status = app.status()
        self.assertEqual(status['TracerPid'].strip(), '0')
        self.assertNotIn(status['State'].strip()[:1], ('T', 't'))
        if check_ticks:
            before = app.stats()['ticks']
            wandtest.wait_for(lambda: app.stats()['ticks'] > before, timeout=5, what='SIGALRM ticks to go on')

    def inject_in_a_row(self, mode, count):
        app = self.start(mode)
        hammer = Hammer(app.port)
        hammer.start()
        time.sleep(0.2)
        ticks_before, begun = app.stats()['ticks'], time.monotonic()
        reports = []
        try:
            for n in range(count):
                report = run_in_main_thread(app.pid, self.code(n), deadline_seconds=15, run_seconds=15)
                reports.append(report)
                self.assertTrue(report['ok'], report)
        finally:
            elapsed = time.monotonic() - begun
            ticks_after = app.stats()['ticks']
            hammer.finish()
        self.assertEqual(self.markers(), ['%d:1' % n for n in range(count)])
        self.assertEqual(hammer.errors, 0, hammer.last_error)
        self.assertGreater(hammer.ok, 0)
        self.assertTrue(all(r['pageFreed'] for r in reports), [r for r in reports if not r['pageFreed']])
        self.assert_healthy(app)
        routes = {}
        for r in reports:
            key = '%s(%s)' % (r['route'], r['syscall'] or 'running')
            routes[key] = routes.get(key, 0) + 1
        held = [r['stoppedMs'] for r in reports]
        started = [r['startMs'] for r in reports]
        note('%s %-6s x%-3d ok, routes %s; main thread held median %.2f ms max %.2f ms; started after median '
             '%.1f ms max %.1f ms; %d requests, %d errors, worst %.0f ms; ticks %.0f/s; signals re-sent %d'
             % (self.version, mode, count, routes, statistics.median(held), max(held), statistics.median(started),
                max(started), hammer.ok, hammer.errors, hammer.worst * 1000, (ticks_after - ticks_before) / elapsed,
                sum(r['signalsRedelivered'] for r in reports)))
        return reports

    # --- the states of the main thread -----------------------------------------------------

    def test_sleeping(self):
        self.inject_in_a_row('sleep', 3)

    def test_cpu_loop(self):
        self.inject_in_a_row('cpu', 3)

    def test_blocked_on_lock(self):
        self.inject_in_a_row('lock', 3)

    def test_blocked_on_event(self):
        self.inject_in_a_row('event', 3)

    def test_in_c_call_holding_the_gil(self):
        self.inject_in_a_row('cregex', 3)

    def test_idle_event_loop(self):
        self.inject_in_a_row('asyncio', 3)

    def test_hundred_in_a_row(self):
        if not LONG and self.version != newest_version():
            self.skipTest('WAND_PTRACE_LONG=1 runs 100 in a row for every version (default: the newest only)')
        self.inject_in_a_row('cycle', 100)

    def test_blocked_in_read_with_signals_blocked_runs_at_once(self):
        """Nothing would ever run a pending call here: only the direct route can."""
        reports = self.inject_in_a_row_without_ticks('read')
        self.assertEqual(set(r['route'] for r in reports), {'direct'})

    def inject_in_a_row_without_ticks(self, mode, count=3):
        app = self.start(mode)
        reports = []
        for n in range(count):
            wait_blocked(app.pid, 0)   # in read(), not still returning from the previous one
            report = run_in_main_thread(app.pid, self.code(n), deadline_seconds=5, run_seconds=5)
            self.assertTrue(report['ok'], report)
            reports.append(report)
        self.assertEqual(self.markers(), ['%d:1' % n for n in range(count)])
        self.assert_healthy(app, check_ticks=False)
        self.assertEqual(app.proc.poll(), None)
        note('%s %-6s x%d ok, routes %s, held %s ms' % (self.version, mode, count, [r['route'] for r in reports],
                                                     [r['stoppedMs'] for r in reports]))
        return reports

    def test_deadline_restores_detaches_and_disarms(self):
        lockfile = os.path.join(self.workdir, 'lock')
        with open(lockfile, 'wb') as held:
            import fcntl
            fcntl.flock(held, fcntl.LOCK_EX)
            app = self.start('flock', [lockfile])
            hammer = Hammer(app.port)
            hammer.start()
            wait_blocked(app.pid, 73)   # flock
            injection = Injection(app.pid, self.code(0))
            begun = time.monotonic()
            with self.assertRaises(InjectError) as caught:
                injection.start(1.0)
            took = time.monotonic() - begun
            self.assertEqual(caught.exception.code, 'timeout')
            self.assertIn('flock', caught.exception.message + ' ' + str(injection.report['syscall']))
            self.assert_healthy(app, check_ticks=False)
            served = hammer.ok
            time.sleep(0.3)
            self.assertGreater(hammer.ok, served, 'the target stopped serving')
        # the lock is free: the main thread runs the queued call, which must do nothing now
        self.assertEqual(app.readline(10), b'LOCKED\n')
        status = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = ptrace_x86.Tracee(app.pid).read(injection.page, 8)
            if status[2:3] == b'X':
                break
            time.sleep(0.02)
        self.assertEqual(status[1:3], b'SX')
        self.assertEqual(self.markers(), [])
        self.assertTrue(injection.free())
        hammer.finish()
        self.assertEqual(hammer.errors, 0, hammer.last_error)
        self.assert_healthy(app)
        note('%s deadline: timeout after %.2f s (deadline 1.0 s), main thread held %.2f ms, code disarmed and '
             'skipped, page freed, %d requests, %d errors' % (self.version, took, injection.report['stoppedMs'],
                                                             hammer.ok, hammer.errors))

    def snapshot(self, pid, syscall):
        """Every general register and the XSAVE area of the main thread, seen by a fresh stop once it
        is blocked in `syscall` (by number)."""
        wait_blocked(pid, syscall)
        tracee = ptrace_x86.Tracee(pid)
        tracee.seize()
        try:
            tracee.stop(time.monotonic() + 5)
            regs = dict((name, getattr(tracee.saved_regs, name)) for name in ptrace_x86.REG_NAMES)
            return regs, tracee.saved_fp
        finally:
            tracee.release()

    def assert_same_context(self, before, after):
        self.assertEqual(before[0], after[0])
        self.assertEqual(before[1][0], after[1][0])
        self.assertEqual(before[1][1], after[1][1], 'the FP/vector state changed')

    def test_context_comes_back_exactly_after_the_direct_route(self):
        app = self.start('read')
        before = self.snapshot(app.pid, 0)
        report = run_in_main_thread(app.pid, 'x = [float(i) / 7 for i in range(1000)]', 5, 5)
        self.assertTrue(report['ok'], report)
        self.assertEqual(report['route'], 'direct')
        self.assert_same_context(before, self.snapshot(app.pid, 0))

    def test_context_comes_back_exactly_after_queueing(self):
        lockfile = os.path.join(self.workdir, 'lock')
        with open(lockfile, 'wb') as held:
            import fcntl
            fcntl.flock(held, fcntl.LOCK_EX)
            app = self.start('flock', [lockfile])
            before = self.snapshot(app.pid, 73)
            injection = Injection(app.pid, 'pass')
            with self.assertRaises(InjectError):
                injection.start(0.3)
            self.assertEqual(injection.report['route'], 'pending')
            self.assert_same_context(before, self.snapshot(app.pid, 73))

    def test_code_that_raises_is_reported(self):
        app = self.start('sleep')
        report = run_in_main_thread(app.pid, 'raise ValueError("from the test")', 5, 5)
        self.assertEqual(report['code'], 'injected-code-failed')
        self.assertIn('ValueError: from the test', report['message'])
        self.assertIn('Traceback', report['error'])
        self.assertTrue(report['pageFreed'])
        self.assert_healthy(app)


for _version in VERSIONS:
    _name = 'Python%sTest' % _version.replace('.', '')
    globals()[_name] = type(_name, (LiveBase, unittest.TestCase), {'version': _version})
del _version, _name


class SafetyNetTest(unittest.TestCase):
    """Remote calls that go wrong leave the target as it was: a forbidden syscall (what a contended
    lock would make), a crash inside the call, a call that overruns its deadline."""

    def setUp(self):
        python = interpreter(newest_version() or '3.13')
        if not X86_64 or python is None:
            self.skipTest('needs x86_64 and a pyenv interpreter')
        self.workdir = tempfile.mkdtemp(prefix='wand-ptrace-test-')
        self.app = App(python, 'lock', self.workdir)
        wait_blocked(self.app.pid, 202)   # futex
        self.libc = self.resolve(('getpid', 'atoi', 'usleep'))
        self.tracee = ptrace_x86.Tracee(self.app.pid)
        self.tracee.seize()
        self.tracee.stop(time.monotonic() + 5)
        self.before = bytes(self.tracee.saved_regs)

    def resolve(self, names):
        maps = ptrace_elf.read_maps(self.app.pid)
        objects = ptrace_elf.loaded_objects(self.app.pid, maps)
        try:
            found, _, libc = ptrace_elf.resolve(objects, ('Py_IsInitialized',), names)
        finally:
            for obj in objects:
                obj.close()
        self.assertIsNotNone(libc)
        return found

    def tearDown(self):
        try:
            self.tracee.release()
            self.assertEqual(self.app.status()['TracerPid'].strip(), '0')
            ticks = self.app.stats()['ticks']   # its main thread runs Python signal handlers again
            wandtest.wait_for(lambda: self.app.stats()['ticks'] > ticks, timeout=5, what='ticks')
            self.assertTrue(run_in_main_thread(self.app.pid, 'pass', 10, 10)['ok'])
        finally:
            self.app.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def test_a_syscall_not_allowed_is_skipped_and_the_call_stopped(self):
        with self.assertRaises(ptrace_x86.CallAborted) as caught:
            self.tracee.call(self.libc['getpid'], (), time.monotonic() + 5, ())
        self.assertEqual(caught.exception.syscall, 39)
        self.tracee.restore()
        self.assertEqual(bytes(self.tracee.getregs()), self.before)
        # allowed, the same call returns the pid
        self.assertEqual(self.tracee.call(self.libc['getpid'], (), time.monotonic() + 5, (39,)), self.app.pid)

    def test_a_crash_inside_the_call_is_contained(self):
        with self.assertRaises(ptrace_x86.CallCrashed) as caught:
            self.tracee.call(self.libc['atoi'], (0x10,), time.monotonic() + 5, ())
        self.assertEqual(caught.exception.sig, 11)
        self.tracee.restore()

    def test_a_call_past_its_deadline_is_interrupted(self):
        begun = time.monotonic()
        with self.assertRaises(ptrace_x86.WaitTimeout):
            self.tracee.call(self.libc['usleep'], (30 * 1000 * 1000,), time.monotonic() + 0.3, (35, 230, 219))
        self.assertLess(time.monotonic() - begun, 5)
        # release() (tearDown) stops it inside usleep and puts the saved context back


class RefusalTest(unittest.TestCase):
    def setUp(self):
        if not X86_64:
            self.skipTest('x86_64 only')
        self.procs = []

    def tearDown(self):
        for proc in self.procs:
            proc.kill()
            proc.wait()
            proc.stdout.close()

    def spawn(self, argv, env=None):
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
        self.procs.append(proc)
        proc.stdout.readline()
        return proc

    def test_remote_debug_disabled_is_honoured_without_tracing(self):
        python = interpreter(newest_version() or '3.13') or sys.executable
        env = dict(os.environ, PYTHON_DISABLE_REMOTE_DEBUG='')
        proc = self.spawn([python, '-c', 'import time; print(1, flush=True); time.sleep(60)'], env)
        report = run_in_main_thread(proc.pid, 'pass', 2, 2)
        self.assertEqual(report['code'], 'remote-debug-disabled')
        self.assertEqual(report['attempts'], 0)

    def test_not_python(self):
        proc = self.spawn(['sh', '-c', 'echo; exec sleep 60'])
        time.sleep(0.1)
        self.assertEqual(run_in_main_thread(proc.pid, 'pass', 2, 2)['code'], 'not-python')

    def test_no_such_process(self):
        proc = subprocess.Popen(['true'])
        proc.wait()
        self.assertEqual(run_in_main_thread(proc.pid, 'pass', 2, 2)['code'], 'no-such-process')

    def test_other_architectures_are_refused(self):
        with self.assertRaises(InjectError) as caught:
            ptrace_process.check_target(os.getpid(), machine='aarch64')
        self.assertEqual(caught.exception.code, 'unsupported-arch')


class WrapperTest(unittest.TestCase):
    """The source PyRun_SimpleString runs, executed here on a buffer of this process."""

    def run_top(self, code, armed=b'A'):
        page = ctypes.create_string_buffer(ptrace_inject.HEADER)
        page[0] = armed
        namespace = {'__builtins__': __builtins__}
        exec(ptrace_inject.build_source(ctypes.addressof(page), code).decode(), namespace)
        return page.raw, namespace

    def test_runs_reports_and_binds_nothing(self):
        raw, namespace = self.run_top('import sys\nsys._wand_test = 42')
        self.assertEqual(raw[:5], b'ASRFM')
        self.assertEqual(sys.__dict__.pop('_wand_test'), 42)
        self.assertEqual(list(namespace), ['__builtins__'])

    def test_threading_half_imported_neither_stops_nor_strands_the_run(self):
        # a new worker's main thread runs pending calls inside its own `import threading`: the
        # module is in sys.modules without its functions yet (seen with uvicorn --reload on 3.13)
        import _thread
        import types
        half = types.ModuleType('threading')
        saved_ident = _thread.__dict__.pop('_get_main_thread_ident', None)   # as before 3.13
        saved_threading = sys.modules['threading']
        sys.modules['threading'] = half
        try:
            raw, _ = self.run_top('import sys\nsys._wand_test = 7')
        finally:
            sys.modules['threading'] = saved_threading
            if saved_ident is not None:
                _thread._get_main_thread_ident = saved_ident
        self.assertEqual(raw[:5], b'ASRF?')
        self.assertEqual(sys.__dict__.pop('_wand_test'), 7)

    def test_error_text(self):
        raw, _ = self.run_top('1/0')
        self.assertEqual(raw[1:4], b'SRE')
        self.assertIn(b'ZeroDivisionError', raw[ptrace_inject.ERROR_AT:].split(b'\0')[0])

    def test_disarmed_code_does_not_run(self):
        raw, _ = self.run_top('import sys\nsys._wand_test = 1', armed=b'D')
        self.assertEqual(raw[1:3], b'SX')
        self.assertFalse(hasattr(sys, '_wand_test'))

    def test_even_system_exit_stays_inside(self):
        raw, _ = self.run_top('raise SystemExit(3)')
        self.assertEqual(raw[3:4], b'E')


class FrameTest(unittest.TestCase):
    class Regs(object):
        def __getattr__(self, name):
            return 0

    def test_ucontext_layout(self):
        fp = ('xstate', b'\0' * 464 + ctypes.c_uint64(0x7).value.to_bytes(8, 'little') + b'\0' * 40 + b'\0' * 320)
        ucontext, fpstate = ptrace_x86.signal_frame(self.Regs(), fp, 5, (0, 2, 0), 0x1000, -4, 0x2000)
        self.assertEqual(len(ucontext), 304)            # struct ucontext on x86_64
        self.assertEqual(ucontext[296:], (5).to_bytes(8, 'little'))   # uc_sigmask last
        self.assertEqual(int.from_bytes(ucontext[40 + 16 * 8:40 + 17 * 8], 'little'), 0x1000)   # rip
        self.assertEqual(int.from_bytes(ucontext[40 + 184:40 + 192], 'little'), 0x2000)   # fpstate
        magic1, extended, xfeatures, size = [int.from_bytes(fpstate[464 + a:464 + b], 'little')
                                            for a, b in ((0, 4), (4, 8), (8, 16), (16, 20))]
        self.assertEqual((magic1, extended, xfeatures, size), (0x46505853, 836, 7, 832))
        self.assertEqual(fpstate[832:], (0x46505845).to_bytes(4, 'little'))

    def test_maps_and_names(self):
        maps = ptrace_elf.parse_maps('7f00-7f10 r-xp 00001000 08:01 1234   /usr/lib/libpython3.11.so.1.0\n'
                                     '7f20-7f30 rw-p 00000000 00:00 0 \n')
        self.assertEqual((maps[0].start, maps[0].perms, maps[0].offset, maps[0].inode), (0x7f00, 'r-xp', 0x1000, 1234))
        self.assertEqual(maps[1].path, '')
        version = ptrace_elf.python_version_from_paths
        self.assertEqual(version(['/usr/lib/libpython3.11.so.1.0']), (3, 11, False))
        self.assertEqual(version(['/x/lib/libc.so.6', '/usr/bin/python3.13t']), (3, 13, True))
        self.assertIsNone(version(['/usr/bin/uwsgi']))


class OtherInjectorInterpretersTest(unittest.TestCase):
    """The injector itself run by Python 3.9 and by 3.14 (the test image's, chrooted: another root)."""

    def setUp(self):
        if not X86_64:
            self.skipTest('x86_64 only')
        self.workdir = tempfile.mkdtemp(prefix='wand-ptrace-test-')
        target_python = interpreter('3.12') or interpreter(newest_version() or '3.13')
        if target_python is None:
            self.skipTest('no target interpreter')
        self.app = App(target_python, 'cycle', self.workdir)

    def tearDown(self):
        self.app.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def check(self, command, label):
        marker = os.path.join(self.workdir, 'marker-' + label)
        code = 'import threading, __main__\nopen(%r, "a").write("{i}:%%d\\n" %% (threading.get_ident() == __main__.MAIN))' \
            % marker
        run = subprocess.run(command + [str(self.app.pid), code, '--repeat', '5', '--deadline', '10'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        reports = [json.loads(line) for line in run.stdout.decode().splitlines()]
        self.assertEqual(run.returncode, 0, run.stderr.decode() + run.stdout.decode())
        with open(marker) as f:
            self.assertEqual(f.read().split(), ['%d:1' % i for i in range(5)])
        note('injector on %s: 5 ok into %s, routes %s' % (label, reports[0]['version'], [r['route'] for r in reports]))

    def test_injector_on_python_3_9(self):
        python = interpreter('3.9')
        if python is None:
            self.skipTest('no Python 3.9')
        self.check([python, CLI], '3.9')

    def test_injector_on_python_3_14_in_another_root(self):
        root = os.environ.get('WAND_TEST_ROOT')
        if not root or not os.path.exists(os.path.join(root, 'usr/bin/python3.14')) or os.geteuid() != 0 \
                or shutil.which('unshare') is None:
            self.skipTest('needs root, unshare and WAND_TEST_ROOT with python3.14 (ptrace.test.ts sets it)')
        script = ('set -e; R="$1"; shift; mount --bind /proc "$R/proc"; mount -t tmpfs tmpfs "$R/tmp"; '
                  'cp -r "$0"/../../../src/agent/wand_agent "$0"/ptrace_cli.py "$R/tmp/"; '
                  'exec chroot "$R" python3.14 /tmp/ptrace_cli.py "$@"')
        self.check(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, HERE, root],
                   '3.14 (chroot)')


@requires_container
class ContainerTargetTest(unittest.TestCase):
    """A target in its own PID and mount namespaces, on the test image's Debian python3.13 (a
    non-PIE executable with libpython linked in); the injector outside resolves symbols through
    /proc/PID/root."""

    def setUp(self):
        if not X86_64 or not os.path.exists(os.path.join(wandtest.TEST_ROOT, 'usr/bin/python3.13')):
            self.skipTest('needs x86_64 and python3.13 in the test image')
        self.workdir = tempfile.mkdtemp(prefix='wand-ptrace-test-')
        self.container = wandtest.Container(wandtest.TEST_ROOT, self.workdir)

    def tearDown(self):
        self.container.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def test_injects_into_a_containers_python_3_13(self):
        shutil.copy(TARGET, self.container.host_path('/tmp/ptrace_target.py'))
        with open(self.container.host_path('/tmp/payload.py'), 'w') as f:
            f.write(PAYLOAD % '/tmp/marker')
        app = self.container.start(['python3.13', '-u', '/tmp/ptrace_target.py', 'cycle'], name='target')
        wandtest.wait_for(lambda: 'READY' in app.log(), timeout=20, what='READY')
        hammer = Hammer(int(app.log().split()[1]))
        hammer.start()
        reports = [run_in_main_thread(app.host_pid, 'N = %d\nexec(open("/tmp/payload.py").read())' % n, 15, 15)
                   for n in range(10)]
        hammer.finish()
        self.assertTrue(all(r['ok'] for r in reports), [r for r in reports if not r['ok']])
        with open(self.container.host_path('/tmp/marker')) as f:
            self.assertEqual(f.read().split(), ['%d:1' % n for n in range(10)])
        self.assertEqual(hammer.errors, 0, hammer.last_error)
        with open('/proc/%d/status' % app.host_pid) as f:
            self.assertIn('TracerPid:\t0', f.read())
        note('container python3.13 (%s): 10 ok, routes %s, %d requests, %d errors'
             % (reports[0]['version'], sorted(set(r['route'] for r in reports)), hammer.ok, hammer.errors))


def load_tests(loader, tests, pattern):
    """agent.test.ts runs the other agent tests; these run from ptrace.test.ts (their own timeout)."""
    if os.environ.get('WAND_PTRACE_TESTS') == 'separately':
        return unittest.TestSuite()
    return tests


def tearDownModule():
    missing = [v for v in VERSIONS if v not in RAN]
    note('live target versions run: %s; not run: %s\n' % (', '.join(RAN) or 'none', ', '.join(missing) or 'none'))


if __name__ == '__main__':
    unittest.main()
