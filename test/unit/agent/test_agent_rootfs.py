"""Tests of the agent against real Python 3.14 processes in a throwaway container (see wandtest).

Needs root and WAND_TEST_ROOT pointing at a root filesystem with python3.14, python3.13 and debugpy,
e.g. WAND_TEST_ROOT=/var/cache/wand-probe/root python3 -m unittest discover -s test/unit/agent -v
The root filesystem is mounted read-only; all files go to the container's private /tmp.
"""

import base64
import io
import json
import os
import socket
import sys
import tempfile
import time
import unittest
import zipfile

from wandtest import TEST_ROOT, Container, assert_pending_payload_disarmed, free_port, requires_container, wait_for

LOOP = 'import time\nprint("ready", flush=True)\nwhile True:\n    time.sleep(0.05)\n'
APP_DIR = '/tmp/app'
APP_MAIN = '''
import threading, time
counter = 41
stop = threading.Event()
threading.Thread(target=stop.wait, name="waiter", daemon=True).start()
print("ready", flush=True)
while True:
    time.sleep(0.05)
'''
ASGI_APP = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
'''


def timing(label, seconds):
    sys.stderr.write('\n    [timing] %s: %.3f s\n' % (label, seconds))


class Dap(object):
    """Just enough of a Debug Adapter Protocol client to prove a debugpy listener is real."""

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=20)
        self.buffer = b''
        self.seq = 0

    def send(self, command, **arguments):
        self.seq += 1
        body = json.dumps({'seq': self.seq, 'type': 'request', 'command': command,
                           'arguments': arguments}).encode()
        self.sock.sendall(b'Content-Length: %d\r\n\r\n' % len(body) + body)
        return self.seq

    def read(self):
        while b'\r\n\r\n' not in self.buffer:
            self.receive()
        header, self.buffer = self.buffer.split(b'\r\n\r\n', 1)
        length = int(header.split(b':')[1])
        while len(self.buffer) < length:
            self.receive()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(body)

    def receive(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError('debug adapter closed the connection')
        self.buffer += chunk

    def wait(self, predicate):
        while True:
            message = self.read()
            if predicate(message):
                return message

    def response(self, seq):
        return self.wait(lambda m: m.get('type') == 'response' and m.get('request_seq') == seq)

    def initialize(self):
        response = self.response(self.send('initialize', adapterID='wand-test', clientID='wand-test'))
        assert response['success'], response
        return response

    def attach(self, breakpoint=None):
        """After initialize: attach (not awaited), `initialized` event, breakpoint, configurationDone."""
        attach = self.send('attach', justMyCode=False)
        self.wait(lambda m: m.get('type') == 'event' and m.get('event') == 'initialized')
        if breakpoint:
            path, line = breakpoint
            reply = self.response(self.send('setBreakpoints', source={'path': path}, breakpoints=[{'line': line}]))
            assert reply['body']['breakpoints'][0]['verified'], reply
        self.response(self.send('configurationDone'))
        return self.response(attach)

    def stop_at(self, breakpoint):
        """Attach with a breakpoint, wait until the program stops there, let it continue."""
        self.attach(breakpoint)
        stopped = self.wait(lambda m: m.get('type') == 'event' and m.get('event') == 'stopped')
        frames = self.response(self.send('stackTrace', threadId=stopped['body']['threadId']))['body']['stackFrames']
        self.response(self.send('continue', threadId=stopped['body']['threadId']))
        return stopped['body']['reason'], frames[0]

    def close(self):
        try:
            self.send('disconnect', terminateDebuggee=False)
        except OSError:
            pass
        self.sock.close()


def debugpy_zip_base64():
    source = os.path.join(TEST_ROOT, 'usr', 'lib', 'python3', 'dist-packages')
    data = io.BytesIO()
    with zipfile.ZipFile(data, 'w', zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(os.path.join(source, 'debugpy')):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            for name in files:
                path = os.path.join(root, name)
                archive.write(path, os.path.relpath(path, source))
    return base64.b64encode(data.getvalue()).decode()


class AppContainerCase(unittest.TestCase):
    """A container on the test image with the apps of these tests in APP_DIR; no /tmp leftovers."""

    @classmethod
    def setUpClass(cls):
        cls.logs = tempfile.mkdtemp(prefix='wand-test-logs-')
        cls.c = Container(TEST_ROOT, cls.logs)
        os.makedirs(cls.c.host_path(APP_DIR))
        with open(cls.c.host_path(APP_DIR + '/main.py'), 'w') as f:
            f.write(APP_MAIN)
        with open(cls.c.host_path(APP_DIR + '/asgi.py'), 'w') as f:
            f.write(ASGI_APP)

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()
        import shutil
        shutil.rmtree(cls.logs, ignore_errors=True)

    def tearDown(self):
        leftovers = [e for e in self.c.tmp_entries() if e.startswith('wand-') and not e.startswith('wand-debugpy-')]
        self.assertEqual(leftovers, [], 'files left in the container /tmp')


@requires_container
class ContainerTest(AppContainerCase):
    def target(self, code=LOOP, **kwargs):
        proc = self.c.python(code, ready='ready', **kwargs)
        self.addCleanup(proc.stop)
        return proc

    def app(self, **kwargs):
        proc = self.c.start(['python3', '-u', APP_DIR + '/main.py'], name='app', **kwargs)
        self.addCleanup(proc.stop)
        wait_for(lambda: 'ready' in proc.log(), what='app ready')
        return proc

    def inject(self, pid, port, uid=None, **extra):
        request = {'op': 'inject', 'pid': pid, 'port': port, 'waitForClient': False, 'timeoutSeconds': 10}
        request.update(extra)
        return self.c.agent(request, uid=uid)

    def exec_code(self, pid, code, uid=None, **extra):
        request = {'op': 'exec', 'pid': pid, 'code': code, 'timeoutSeconds': 10}
        request.update(extra)
        return self.c.agent(request, uid=uid)

    def record(self, pid, uid=None):
        run = self.c.agent({'op': 'list', 'sampleSeconds': 0.1}, uid=uid)
        return dict((p['pid'], p) for p in run.result['processes'])[pid]

    # -- inject ------------------------------------------------------------------------------

    def test_inject_listens_reuses_and_listens_again_after_a_session(self):
        app = self.app()
        port = free_port()
        run = self.inject(app.pid, port)
        result = run.result
        timing('inject into an idle loop, until debugpy listens (agent wall time)', run.seconds)
        self.assertEqual(run.returncode, 0)
        self.assertEqual([e['event'] for e in run.events], ['started', 'result'])
        self.assertEqual((result['op'], result['pid'], result['host'], result['port'], result['reused']),
                         ('inject', app.pid, '127.0.0.1', port, False))
        self.assertRegex(result['debugpyVersion'], r'^\d+\.\d+')
        self.assertEqual(result['cwd'], '/')
        self.assertEqual(result['mainFile'], APP_DIR + '/main.py')
        self.assertEqual(result['sysPath0'], APP_DIR)
        self.assertFalse(result['underSitePackages'])

        breakpoint = (APP_DIR + '/main.py', 8)
        client = Dap(port)
        try:
            client.initialize()
            # while debugpy serves the process, injecting again reuses its listener
            again = self.inject(app.pid, free_port()).result
            self.assertEqual((again['reused'], again['port']), (True, port))
            record = self.record(app.pid)
            self.assertEqual((record['debuggable'], record['debugpyPort']), (True, port))
            reason, frame = client.stop_at(breakpoint)
            self.assertEqual((reason, frame['line'], frame['source']['path']), ('breakpoint', 8, breakpoint[0]))
        finally:
            client.close()

        # debugpy's adapter ends with the client's "disconnect": the next inject listens anew
        wait_for(lambda: self.record(app.pid)['debugpyPort'] is None, what='the adapter to exit')
        port = free_port()
        fresh = self.inject(app.pid, port).result
        self.assertEqual((fresh['reused'], fresh['port']), (False, port))
        client = Dap(port)
        try:
            client.initialize()
            self.assertEqual(client.stop_at(breakpoint)[0], 'breakpoint')
        finally:
            client.close()

    def test_inject_uvicorn_worker(self):
        http_port = free_port()
        server = self.c.start(['python3', '-m', 'uvicorn', '--app-dir', APP_DIR, '--port', str(http_port),
                               'asgi:app'], name='uvicorn')
        self.addCleanup(server.stop)
        wait_for(lambda: 'Uvicorn running' in server.log(), timeout=20, what='uvicorn')
        port = free_port()
        run = self.inject(server.pid, port)
        timing('inject into an idle uvicorn, until debugpy listens (agent wall time)', run.seconds)
        result = run.result
        self.assertTrue(result['mainFile'].endswith('/uvicorn/__main__.py'), result['mainFile'])
        self.assertTrue(result['underSitePackages'])
        client = Dap(port)
        try:
            client.initialize()
        finally:
            client.close()

    def test_wait_for_client_holds_the_main_thread_until_attach(self):
        ticker = self.target('import time\nprint("ready", flush=True)\nwhile True:\n'
                             '    print("tick", flush=True)\n    time.sleep(0.05)\n')
        port = free_port()
        self.inject(ticker.pid, port, waitForClient=True).result
        time.sleep(0.3)
        ticks = ticker.log().count('tick')
        time.sleep(0.5)
        self.assertEqual(ticker.log().count('tick'), ticks, 'the main thread should wait for a client')
        client = Dap(port)
        try:
            client.initialize()
            self.assertTrue(client.attach()['success'])
            wait_for(lambda: ticker.log().count('tick') > ticks + 3, what='the main thread to resume')
        finally:
            client.close()

    def test_debugpy_copy_for_an_image_without_debugpy(self):
        # -S keeps dist-packages (and so debugpy) off sys.path: like an image without debugpy
        bare = self.target(options=['-S'])
        run = self.inject(bare.pid, free_port())
        self.assertEqual((run.returncode, run.last['code']), (1, 'no-debugpy'), run.last)
        archive = debugpy_zip_base64()
        port = free_port()
        result = self.inject(bare.pid, port, debugpyZipBase64=archive).result
        self.assertFalse(result['reused'])
        Dap(port).close()
        copies = [e for e in self.c.tmp_entries() if e.startswith('wand-debugpy-')]
        self.assertEqual(len(copies), 1)
        path = exec_result(self, bare.pid, 'import debugpy; print(debugpy.__file__)')['stdout']
        self.assertTrue(path.startswith('/tmp/%s/debugpy/' % copies[0]), path)
        other = self.target(options=['-S'])
        self.inject(other.pid, free_port(), debugpyZipBase64=archive).result
        self.assertEqual([e for e in self.c.tmp_entries() if e.startswith('wand-debugpy-')], copies)

    # -- exec --------------------------------------------------------------------------------

    def test_exec_returns_output_and_traceback(self):
        app = self.app()
        result = exec_result(self, app.pid, 'import sys\nprint("out", 6 * 7)\nprint("err", file=sys.stderr)\n'
                                            'def f():\n    raise ValueError("boom")\nf()\n')
        self.assertEqual(result['stdout'], 'out 42\n')
        self.assertEqual(result['stderr'], 'err\n')
        self.assertIn('ValueError: boom', result['traceback'])
        self.assertIn('File "<wand-exec>", line 6', result['traceback'])
        self.assertIn('raise ValueError("boom")', result['traceback'])
        self.assertNotIn('_wand', result['traceback'])
        self.assertNotIn('out 42', app.log())

        in_main = exec_result(self, app.pid, 'counter + 1', module='__main__')
        self.assertEqual((in_main['stdout'], in_main['traceback']), ('42\n', None))
        fresh = exec_result(self, app.pid, 'print(__name__, "counter" in globals())')
        self.assertEqual(fresh['stdout'], '__wand_exec__ False\n')
        big = exec_result(self, app.pid, 'print("x" * 300000)')
        self.assertEqual(len(big['stdout']), 300001)

    def test_exec_rejects_bad_code_before_injecting(self):
        app = self.app()
        run = self.exec_code(app.pid, 'x = (')
        self.assertEqual(run.last['code'], 'injected-code-failed')
        self.assertIn('SyntaxError', run.last['message'])
        self.assertEqual(run.of_kind('started'), [])
        run = self.exec_code(app.pid, 'x', module='not_imported_anywhere')
        self.assertEqual(run.last['code'], 'injected-code-failed')
        self.assertIn('not imported', run.last['message'])

    def test_other_users(self):
        app = self.app(uid=1000)
        # root agent: the private dir is handed to uid 1000 so that the target can use it
        self.assertEqual(exec_result(self, app.pid, 'import os; print(os.getuid())')['stdout'], '1000\n')
        # same uid without any capability
        self.assertEqual(exec_result(self, app.pid, 'print("same")', uid=1000)['stdout'], 'same\n')
        # another uid without CAP_SYS_PTRACE
        record = self.record(app.pid, uid=1001)
        self.assertFalse(record['debuggable'])
        self.assertIn('uid 1000', record['reason'])
        run = self.exec_code(app.pid, 'print(1)', uid=1001)
        self.assertEqual(run.last['code'], 'permission-denied')

    # -- stack and timeout -------------------------------------------------------------------

    def test_stack_without_running_code(self):
        app = self.app()
        result = self.c.agent({'op': 'stack', 'pid': app.pid}).result
        main = result['threads'][0]
        self.assertTrue(main['isMain'])
        self.assertEqual(main['threadId'], app.pid)
        self.assertEqual(main['frames'][-1]['file'], APP_DIR + '/main.py')
        waiters = [t for t in result['threads'] if any(f['function'].endswith('Event.wait') for f in t['frames'])]
        self.assertEqual(len(waiters), 1)
        self.assertFalse(waiters[0]['isMain'])
        # reading stacks needs no remote execution: it works on a process that disabled it
        disabled = self.target(options=['-X', 'disable-remote-debug'])
        self.assertTrue(self.c.agent({'op': 'stack', 'pid': disabled.pid}).result['threads'][0]['isMain'])

    def test_timeout_reports_the_blocked_main_thread_and_never_runs_late(self):
        sleeper = self.target('import signal, time\nsignal.signal(signal.SIGUSR1, lambda *a: None)\n'
                              'print("ready", flush=True)\ntime.sleep(1000)\n')
        run = self.exec_code(sleeper.pid, 'print("SHOULD NOT RUN")', timeoutSeconds=2.5)
        error = run.last
        self.assertEqual((error['event'], error['code'], error['blockedIn']), ('error', 'timeout', 'time.sleep()'))
        self.assertIn('blocked in time.sleep()', error['message'])
        self.assertEqual(error['stack'][0]['isMain'], True)
        self.assertEqual(error['stack'][0]['frames'][0]['function'], '<module>')
        waiting = run.of_kind('waiting')
        self.assertEqual([w['seconds'] for w in waiting], [1, 2])
        self.assertEqual(waiting[0]['blockedIn'], 'time.sleep()')
        assert_pending_payload_disarmed(self, self.c, sleeper)

    # -- not debuggable ----------------------------------------------------------------------

    def test_remote_debug_disabled(self):
        by_option = self.target(options=['-X', 'disable-remote-debug'])
        by_env = self.target(env={'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
        ignored = self.target(options=['-E'], env={'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
        record = self.record(by_option.pid)
        self.assertEqual((record['debuggable'], record['xOptions']), (False, ['disable-remote-debug']))
        self.assertIn('-X disable-remote-debug', record['reason'])
        record = self.record(by_env.pid)
        self.assertEqual((record['debuggable'], record['env']), (False, {'PYTHON_DISABLE_REMOTE_DEBUG': '1'}))
        self.assertIn('PYTHON_DISABLE_REMOTE_DEBUG', record['reason'])
        for proc in (by_option, by_env):
            self.assertEqual(self.inject(proc.pid, free_port()).last['code'], 'remote-debug-disabled')
        self.assertTrue(self.record(ignored.pid)['debuggable'])
        self.assertEqual(exec_result(self, ignored.pid, 'print("-E ignores it")')['stdout'], '-E ignores it\n')

    # -- list --------------------------------------------------------------------------------

    def test_list_in_the_container(self):
        self.target()
        self.target(interpreter='python3.13')
        best = None
        for _ in range(3):
            run = self.c.agent({'op': 'list', 'sampleSeconds': 0.2})
            best = run.seconds if best is None else min(best, run.seconds)
        timing('list op, sampleSeconds=0.2 (wall time incl. nsenter and interpreter start)', best)
        self.assertGreaterEqual(best, 0.2)  # it sampled; how fast is the bench's business
        result = run.result
        self.assertEqual(result['agentPython'].split('.')[:2], ['3', '14'])
        pids = [p['pid'] for p in result['processes']]
        self.assertIn(1, pids)
        pid1 = [p for p in result['processes'] if p['pid'] == 1][0]
        self.assertEqual((pid1['argv'], pid1['isPython'], pid1['user']), (['sleep', 'infinity'], False, 'root'))
        versions = set(p['python'] for p in result['processes'] if p['isPython'])
        self.assertTrue(any(v.startswith('3.13.') for v in versions) and any(v.startswith('3.14.') for v in versions))

    def test_agent_on_python_313(self):
        """A 3.13 `python3` in the image can still drive 3.14 targets: the helpers use theirs."""
        app = self.app()
        run = self.c.agent({'op': 'list', 'sampleSeconds': 0.1}, interpreter='python3.13')
        self.assertTrue(run.result['agentPython'].startswith('3.13.'))
        record = dict((p['pid'], p) for p in run.result['processes'])[app.pid]
        self.assertTrue(record['python'].startswith('3.14.') and record['debuggable'], record)
        run = self.c.agent({'op': 'exec', 'pid': app.pid, 'code': 'import sys; print(sys.version_info[:2])',
                            'timeoutSeconds': 10}, interpreter='python3.13')
        self.assertEqual(run.result['stdout'], '(3, 14)\n')
        stack = self.c.agent({'op': 'stack', 'pid': app.pid}, interpreter='python3.13').result
        self.assertTrue(stack['threads'][0]['isMain'])


def exec_result(test, pid, code, uid=None, **extra):
    run = test.exec_code(pid, code, uid=uid, **extra)
    test.assertEqual(run.returncode, 0, run.last)
    return run.result


if __name__ == '__main__':
    unittest.main()
