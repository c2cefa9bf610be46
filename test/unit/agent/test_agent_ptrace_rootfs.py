"""The assembled agent on Python 3.13 targets (no sys.remote_exec): the ptrace route, in a container
on the test image (its python3.13 is Debian's, with its own debugpy in dist-packages).

Run: WAND_TEST_ROOT=<the 3.14 image root> python3 -m unittest test_agent_ptrace_rootfs (root, x86_64).
"""

import os
import signal
import time
import unittest

from test_agent_rootfs import APP_DIR, AppContainerCase, Dap, timing
from wandtest import free_port, requires_container, wait_for

LOOP = 'import time\nprint("ready", flush=True)\nwhile True:\n    time.sleep(0.05)\n'


@requires_container
class PtraceRouteTest(AppContainerCase):
    @classmethod
    def setUpClass(cls):
        if os.uname()[4] != 'x86_64':
            raise unittest.SkipTest('the ptrace injector is x86_64 only')
        AppContainerCase.setUpClass.__func__(cls)

    def target(self, code=LOOP, **kwargs):
        proc = self.c.python(code, interpreter='python3.13', ready='ready', **kwargs)
        self.addCleanup(proc.stop)
        return proc

    def agent(self, request, **kwargs):
        return self.c.agent(request, interpreter='python3.13', **kwargs)

    def record(self, pid):
        run = self.agent({'op': 'list', 'sampleSeconds': 0})
        return dict((p['pid'], p) for p in run.result['processes'])[pid]

    def assert_not_traced(self, proc):
        with open('/proc/%d/status' % proc.host_pid) as f:
            self.assertIn('TracerPid:\t0', f.read())

    def test_listed_debuggable_with_the_ptrace_injector(self):
        proc = self.target()
        record = self.record(proc.pid)
        self.assertTrue(record['python'].startswith('3.13.'))
        self.assertEqual((record['debuggable'], record['reason'], record['injector']), (True, None, 'ptrace'))

    def test_exec_prints_its_output_in_the_main_thread(self):
        proc = self.target()
        run = self.agent({'op': 'exec', 'pid': proc.pid, 'timeoutSeconds': 10,
                          'code': 'import threading, sys\nprint(threading.current_thread() is threading.main_thread())\n'
                                  'sys.version_info[:2]'})
        timing('exec into a 3.13 loop through ptrace (agent wall time)', run.seconds)
        self.assertEqual(run.returncode, 0, run.last)
        self.assertEqual(run.result['stdout'], 'True\n(3, 13)\n')
        self.assert_not_traced(proc)

    def test_inject_listens_and_a_client_stops_on_a_breakpoint(self):
        app = self.c.start(['python3.13', '-u', APP_DIR + '/main.py'], name='app')
        self.addCleanup(app.stop)
        wait_for(lambda: 'ready' in app.log(), what='app ready')
        port = free_port()
        run = self.agent({'op': 'inject', 'pid': app.pid, 'port': port, 'waitForClient': False, 'timeoutSeconds': 10})
        timing('inject into a 3.13 loop through ptrace, until debugpy listens', run.seconds)
        self.assertEqual(run.returncode, 0, run.last)
        result = run.result
        self.assertEqual((result['injector'], result['port'], result['reused']), ('ptrace', port, False))
        self.assertEqual(result['mainFile'], APP_DIR + '/main.py')
        client = Dap(port)
        try:
            client.initialize()
            reason, frame = client.stop_at((APP_DIR + '/main.py', 8))
            self.assertEqual((reason, frame['line']), ('breakpoint', 8))
        finally:
            client.close()
        self.assert_not_traced(app)

    def test_the_opt_out_is_honoured_even_under_minus_e(self):
        for options in ((), ('-E',)):
            proc = self.target(options=options, env={'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
            record = self.record(proc.pid)
            self.assertEqual((record['debuggable'], record['reasonCode']), (False, 'remote-debug-disabled'))
            run = self.agent({'op': 'exec', 'pid': proc.pid, 'code': 'print(1)', 'timeoutSeconds': 5})
            self.assertEqual(run.last['code'], 'remote-debug-disabled')

    def test_stack_says_it_needs_3_14(self):
        proc = self.target()
        run = self.agent({'op': 'stack', 'pid': proc.pid})
        self.assertEqual(run.last['code'], 'unsupported-python')
        self.assertIn('needs Python 3.14', run.last['message'])

    def test_timeout_disarms_the_payload(self):
        sleeper = self.target('import signal, time\nsignal.signal(signal.SIGUSR1, lambda *a: print("woke", flush=True))\n'
                              'signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])\n'
                              'print("ready", flush=True)\nsignal.sigwait([signal.SIGUSR1])\nprint("woke", flush=True)\n'
                              'time.sleep(5)\n')
        run = self.agent({'op': 'exec', 'pid': sleeper.pid, 'code': 'print("SHOULD NOT RUN")', 'timeoutSeconds': 2})
        self.assertEqual(run.last['code'], 'timeout', run.last)
        os.kill(sleeper.host_pid, signal.SIGUSR1)
        wait_for(lambda: 'woke' in sleeper.log(), what='the sleeper to wake')
        time.sleep(0.5)
        self.assertNotIn('SHOULD NOT RUN', sleeper.log())
        self.assert_not_traced(sleeper)


if __name__ == '__main__':
    unittest.main()
