"""src/agent/listener.py against real Python 3.14 HTTP apps with debugpy 1.8.20, in a throwaway
container (see wandtest; needs root and WAND_TEST_ROOT like test_agent_rootfs.py).

Each step is injected with sys.remote_exec exactly as the payload will run it (listener.py's source
plus one call, on the target's main thread, with fresh globals); the injected script writes its
report to a file. A real DAP client (test_agent_rootfs.Dap) attaches through debugpy's adapter and
holds an HTTP request at a breakpoint; the close must let that request complete, leave nothing
listening, no adapter process, no pydevd thread, no tracing, and a later listen must stop at a
breakpoint again. Then WAND_LISTENER_CYCLES (default 20) listen/attach/stop/close cycles against
the same process, printing its thread count, fd count and RSS after each close.
"""

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import types
import unittest
import unittest.mock
import urllib.request

from test_agent_rootfs import Dap
from wandtest import REPO, TEST_ROOT, Container, free_port, requires_container, wait_for

LISTENER_PATH = os.path.join(REPO, 'src', 'agent', 'wand_agent', 'in_target', 'listener.py')
CYCLES = int(os.environ.get('WAND_LISTENER_CYCLES', '20'))
APP_DIR = '/tmp/app'
APP_FILE = APP_DIR + '/app.py'
# `work()`'s line 8 is the breakpoint: a request to /work is held there. THREADED=1 serves each
# request on its own thread (like uvicorn's threadpool or Flask); THREADED=0 on the main thread
# (like a gunicorn sync worker), where the close itself runs inside pydevd's suspend loop.
APP = '''import http.server, os, sys


def work():
    value = 41
    value += 1
    return value


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(work() if self.path == '/work' else 'pong').encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server_class = http.server.ThreadingHTTPServer if os.environ['THREADED'] == '1' else http.server.HTTPServer
server = server_class(('127.0.0.1', int(sys.argv[1])), Handler)
print('ready', flush=True)
server.serve_forever(poll_interval=0.05)
'''
BREAKPOINT = (APP_FILE, 6)

SESSION = 'test-session'


def listen_call(port, session=SESSION):
    return ('prepare_listen(); import debugpy; debugpy.configure(subProcess=False); '
            'debugpy.listen(("127.0.0.1", %d)); note_listening("127.0.0.1", %d); '
            'result = join(%r)' % (port, port, session))


class Target(object):
    """An HTTP app in the container, and injection of listener.py calls into it."""

    def __init__(self, container, threaded):
        self.c = container
        self.http_port = free_port()
        self.proc = container.start(['python3', '-u', APP_FILE, str(self.http_port)],
                                    env={'THREADED': '1' if threaded else '0'}, name='app')
        wait_for(lambda: 'ready' in self.proc.log(), what='app ready')
        self.injections = 0

    def inject(self, call, timeout=30.0):
        """Run listener.py + `call` (which sets `result`) in the target; return `result`."""
        self.injections += 1
        name = '/tmp/wand-listener-test-%d' % self.injections
        with open(LISTENER_PATH) as f:
            source = f.read()
        script = source + '\n\n' + '''
import json as _json, os as _os
try:
    %s
except BaseException as _exc:
    result = {'exception': '%%s: %%s' %% (type(_exc).__name__, _exc)}
with open(%r, 'w') as _f:
    _json.dump(result, _f)
_os.rename(%r, %r)
''' % (call, name + '.tmp', name + '.tmp', name + '.json')
        with open(self.c.host_path(name + '.py'), 'w') as f:
            f.write(script)
        run = self.c.run(['python3', '-c', 'import sys; sys.remote_exec(%d, %r)' % (self.proc.pid, name + '.py')])
        if run.returncode != 0:
            raise AssertionError('remote_exec failed: %s' % run.stderr.decode())
        out = self.c.host_path(name + '.json')
        try:
            wait_for(lambda: os.path.exists(out), timeout=timeout, what='the injected script')
        except AssertionError as exc:
            raise AssertionError('%s; the app logged:\n%s' % (exc, self.proc.log()))
        with open(out) as f:
            result = json.load(f)
        for suffix in ('.py', '.json'):
            os.unlink(self.c.host_path(name + suffix))
        if 'exception' in result:
            raise AssertionError('injected code raised %s\n%s' % (result['exception'], self.proc.log()))
        return result

    def get(self, path, timeout=30):
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (self.http_port, path), timeout=timeout) as r:
            return r.read().decode()

    def figures(self, threads=None):
        """(threads, fds, RSS in KiB) of the target, read from /proc outside it; with `threads`,
        once the count is back to it (an HTTP handler thread may still be finishing) or after 5 s."""
        pid = self.proc.host_pid
        if threads is not None:
            try:
                wait_for(lambda: len(os.listdir('/proc/%d/task' % pid)) == threads, timeout=5)
            except AssertionError:
                pass
        with open('/proc/%d/status' % pid) as f:
            rss = int([line for line in f if line.startswith('VmRSS:')][0].split()[1])
        return len(os.listdir('/proc/%d/task' % pid)), len(os.listdir('/proc/%d/fd' % pid)), rss

    def listening(self, port):
        """True if anything listens on `port` in the target's network namespace."""
        for name in ('tcp', 'tcp6'):
            with open('/proc/%d/net/%s' % (self.proc.host_pid, name)) as f:
                for line in f.read().splitlines()[1:]:
                    parts = line.split()
                    if parts[3] == '0A' and int(parts[1].rsplit(':', 1)[1], 16) == port:
                        return True
        return False

    def adapters(self):
        """(running debugpy adapters, zombie children of the container's PID 1), host PIDs."""
        running, zombies = [], []
        pid_ns = os.readlink('/proc/%d/ns/pid' % self.c.pid1)
        for name in os.listdir('/proc'):
            if not name.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % name) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                if fields[0] == 'Z':
                    if int(fields[1]) == self.c.pid1:
                        zombies.append(int(name))
                    continue
                with open('/proc/%s/cmdline' % name, 'rb') as f:
                    argv = f.read().split(b'\0')
                if b'--for-server' in argv and os.readlink('/proc/%s/ns/pid' % name) == pid_ns:
                    running.append(int(name))
            except OSError:
                continue
        return running, zombies


class HeldRequest(object):
    """GET /work on a thread: held at the breakpoint until the debugger lets it go."""

    def __init__(self, target):
        self.body, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(target,), daemon=True)
        self.thread.start()

    def _run(self, target):
        try:
            self.body = target.get('/work')
        except Exception as exc:
            self.error = exc

    def wait(self, timeout=15):
        self.thread.join(timeout)
        return self.body


def attach_and_hold(target, port):
    """A DAP client attached with the breakpoint set, and a request stopped there."""
    client = Dap(port)
    client.initialize()
    client.attach(BREAKPOINT)
    request = HeldRequest(target)
    stopped = client.wait(lambda m: m.get('type') == 'event' and m.get('event') == 'stopped')
    assert stopped['body']['reason'] == 'breakpoint', stopped
    assert request.wait(0.3) is None, 'the request should be held at the breakpoint'
    return client, request


def drain(client):
    """Messages the adapter sends until it closes the connection."""
    messages = []
    try:
        while True:
            messages.append(client.read())
    except (EOFError, OSError):
        pass
    client.sock.close()
    return messages


def load_listener():
    spec = importlib.util.spec_from_file_location('wand_listener', LISTENER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LogicTest(unittest.TestCase):
    """The bookkeeping, in this process, with a stand-in debugpy.server.api (no debugpy needed)."""

    def setUp(self):
        self.listener = load_listener()
        self.addCleanup(lambda: sys.__dict__.pop(self.listener.STATE_ATTR, None))
        self.api = types.ModuleType('debugpy.server.api')
        self.api.listen = lambda *a: None
        self.api.listen.called = False
        saved = sys.modules.get('debugpy.server.api')
        sys.modules['debugpy.server.api'] = self.api
        self.addCleanup(lambda: sys.modules.__setitem__('debugpy.server.api', saved) if saved
                        else sys.modules.pop('debugpy.server.api', None))

    def test_nothing_to_close_without_a_listener(self):
        self.assertEqual(self.listener.owner(), 'none')
        report = self.listener.leave('s1')
        self.assertEqual((report['closed'], report['reason']), (True, 'not-listening'))

    def test_a_close_during_our_listen_touches_nothing_and_is_asked_again(self):
        """The close may run inside the injection's debugpy.listen() (before listen.called is set)."""
        self.listener.join('s1')
        self.listener.opening(True)
        self.assertEqual(self.listener.leave('s1'), {'closed': False, 'reason': 'opening'})
        self.assertIn('s1', self.listener._state()['sessions'])
        self.listener.opening(False)
        self.api.listen.called = True
        self.listener.note_listening('127.0.0.1', 5679)
        with unittest.mock.patch.dict(sys.modules, {'pydevd': types.ModuleType('pydevd')}):
            self.assertEqual(self.listener.leave('s1')['reason'], 'fallback')  # a close was tried

    def test_owner(self):
        self.api.listen.called = True
        self.assertEqual(self.listener.owner(), 'app')
        sys._wand_debugpy = ('127.0.0.1', 5679)  # set by the payload of earlier versions
        self.addCleanup(lambda: sys.__dict__.pop('_wand_debugpy', None))
        self.assertEqual(self.listener.owner(), 'wand')

    def test_sessions_of_gone_agents_do_not_count(self):
        self.api.listen.called = True
        self.listener.note_listening('127.0.0.1', 5679)
        start = self.listener._stat_fields(os.getpid())[1]
        # a PID now used by another process (another start time) is a gone agent
        self.assertEqual(self.listener.join('gone', os.getpid(), start + 1)['otherSessions'], 0)
        self.assertEqual(self.listener.join('me', os.getpid(), start)['otherSessions'], 0)
        self.assertEqual(self.listener.join('other', os.getpid(), start)['otherSessions'], 1)
        report = self.listener.leave('me')
        self.assertEqual((report['closed'], report['reason'], report['otherSessions']), (False, 'other-sessions', 1))

    def test_fallback_leaves_the_listener_when_internals_are_missing(self):
        self.api.listen.called = True
        self.listener.note_listening('127.0.0.1', 5679)
        with unittest.mock.patch.dict(sys.modules, {'pydevd': types.ModuleType('pydevd')}):
            report = self.listener.leave('s1')
        self.assertEqual((report['closed'], report['reason']), (False, 'fallback'))
        self.assertIn('lacks pydevd.stoptrace', report['fallback'])
        self.assertTrue(self.api.listen.called)


@requires_container
class ListenerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.logs = tempfile.mkdtemp(prefix='wand-test-logs-')
        cls.c = Container(TEST_ROOT, cls.logs)
        os.makedirs(cls.c.host_path(APP_DIR))
        with open(cls.c.host_path(APP_FILE), 'w') as f:
            f.write(APP)

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()
        shutil.rmtree(cls.logs, ignore_errors=True)

    def target(self, threaded=True):
        target = Target(self.c, threaded)
        self.addCleanup(target.proc.stop)
        return target

    def assert_closed(self, target, report, port):
        self.assertTrue(report['closed'], report)
        self.assertEqual(report['debugpyVersion'], '1.8.20')
        self.assertFalse(target.listening(port), 'something still listens on %d' % port)
        self.assertEqual(target.adapters()[0], [], 'a debug adapter still runs')
        # checked again from a fresh injection, after the resumed threads went on
        state = target.inject('result = tracing_state()')
        self.assertEqual((state['monitoringTool'], state['settrace'], state['threadingSettrace'],
                          state['globalDebugger'], state['pydevdThreads'], state['breakpointhookIsDebugger'],
                          state['listenCalled']),
                         (None, False, False, False, [], False, False), state)

    def close_while_held(self, target, port):
        """Listen, attach, hold a request at the breakpoint, close: the request completes."""
        self.assertTrue(target.inject(listen_call(port))['joined'])
        self.assertTrue(target.listening(port))
        # listening again puts back what the close removed: breakpoint() reaches the debugger
        listening = target.inject('result = tracing_state()')
        self.assertEqual((listening['breakpointhookIsDebugger'], listening['listenCalled'], listening['globalDebugger']),
                         (True, True, True), listening)
        client, request = attach_and_hold(target, port)
        report = target.inject('result = leave(%r)' % SESSION)
        self.assertEqual(request.wait(), '42', request.error)
        # the editor is told, as when the debuggee ends
        self.assertIn('terminated', [m.get('event') for m in drain(client)])
        self.assertGreaterEqual(report['resumedThreads'], 1, report)
        self.assert_closed(target, report, port)
        self.assertEqual(target.get('/ping'), 'pong')
        return report

    def test_close_resumes_a_held_request_and_listen_works_again(self):
        target = self.target()
        baseline = target.figures()
        report = self.close_while_held(target, free_port())
        sys.stderr.write('\n    [listener] first close: adapter %s, %d thread resumed, threads/fds/RSS KiB %r -> %r\n'
                         % (report['adapter'], report['resumedThreads'], baseline, target.figures(baseline[0])))
        # the same process listens again and stops at the breakpoint again
        self.close_while_held(target, free_port())

    def test_close_from_a_main_thread_held_at_the_breakpoint(self):
        # a gunicorn-sync-like app: the request, and so the breakpoint, is on the main thread; the
        # injected close runs inside pydevd's suspend loop there
        target = self.target(threaded=False)
        self.close_while_held(target, free_port())
        self.close_while_held(target, free_port())

    def test_an_app_listener_is_left_alone(self):
        target = self.target()
        port = free_port()
        target.inject('import debugpy; debugpy.listen(("127.0.0.1", %d)); result = {}' % port)
        self.assertEqual(target.inject('result = {"owner": owner()}')['owner'], 'app')
        self.assertEqual(target.inject('result = join("s1")')['owner'], 'app')
        report = target.inject('result = leave("s1")')
        self.assertEqual((report['closed'], report['reason']), (False, 'app-listener'))
        self.assertTrue(target.listening(port))
        client = Dap(port)
        client.initialize()
        client.close()

    def test_two_sessions_the_listener_closes_when_the_last_leaves(self):
        target = self.target()
        port = free_port()
        self.assertEqual(target.inject(listen_call(port, 's1'))['otherSessions'], 0)
        self.assertEqual(target.inject('result = join("s2")')['otherSessions'], 1)
        first = target.inject('result = leave("s1")')
        self.assertEqual((first['closed'], first['reason'], first['otherSessions']), (False, 'other-sessions', 1))
        self.assertTrue(target.listening(port))
        # a session that keeps listening leaves it open; a later plain session closes it
        kept = target.inject('result = leave("s2", keep=True)')
        self.assertEqual((kept['closed'], kept['reason']), (False, 'keep-listening'))
        self.assertTrue(target.listening(port))
        target.inject('result = join("s3")')
        self.assert_closed(target, target.inject('result = leave("s3")'), port)

    def test_a_session_whose_agent_is_gone_does_not_hold_the_listener(self):
        target = self.target()
        port = free_port()
        target.inject(listen_call(port, 's1'))
        # it lives a moment so that its start is seen, then it is gone for good
        gone = self.c.python('import time; print("ready", flush=True); time.sleep(0.5)', name='gone', ready='ready')
        gone.popen.wait()
        target.inject('result = join("s2", %d, None)' % gone.pid)
        self.assert_closed(target, target.inject('result = leave("s1")'), port)

    def test_fallback_when_debugpy_internals_differ(self):
        target = self.target()
        port = free_port()
        target.inject(listen_call(port))
        report = target.inject('import pydevd; _saved = pydevd.stoptrace; del pydevd.stoptrace\n'
                               '    try:\n        result = leave(%r)\n'
                               '    finally:\n        pydevd.stoptrace = _saved' % SESSION)
        self.assertEqual((report['closed'], report['reason']), (False, 'fallback'), report)
        self.assertIn('pydevd.stoptrace', report['fallback'])
        self.assertTrue(target.listening(port))
        self.assertEqual(target.get('/ping'), 'pong')
        self.assert_closed(target, target.inject('result = close_listener()'), port)

    def test_cycles(self):
        target = self.target()
        zombies_before = len(target.adapters()[1])
        rows = [('before', ) + target.figures() + ('', '')]
        for cycle in range(1, CYCLES + 1):
            report = self.close_while_held(target, free_port())
            rows.append((cycle, ) + target.figures(threads=rows[0][1]) + (report['seconds'], report['adapter']))
        zombies = len(target.adapters()[1]) - zombies_before
        sys.stderr.write('\n    [listener] %d listen/attach/stop/close cycles, one process (PID %d): '
                         'cycle threads fds rss_kib close_s adapter\n' % (CYCLES, target.proc.pid))
        for row in rows:
            sys.stderr.write('    [listener] %6s %3d %3d %7d %5s %s\n' % row)
        sys.stderr.write('    [listener] exited adapters left as zombies (the container\'s PID 1, sleep, reaps none): %d\n'
                         % zombies)
        threads, fds = set(r[1] for r in rows[1:]), set(r[2] for r in rows[1:])
        self.assertEqual(threads, set([rows[0][1]]), 'threads after each close should be as before: %r' % rows)
        self.assertEqual(len(fds), 1, 'fd count after each close should be constant: %r' % rows)
        # bounded: the second half of the cycles grows the RSS by less than 2 MiB in all
        half = CYCLES // 2
        self.assertLess(rows[-1][3] - rows[half][3], 2048, rows)


if __name__ == '__main__':
    unittest.main()
