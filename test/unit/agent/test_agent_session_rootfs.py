"""Session mode against real Python 3.14 processes in a throwaway container (see wandtest): two
workers injected at once, a reload followed and re-injected on the same session, and the files of a
session that ends. Needs root and WAND_TEST_ROOT, like test_agent_rootfs.py.
"""

import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

from test_agent_rootfs import Dap
from wandtest import TEST_ROOT, Container, assert_pending_payload_disarmed, children, free_port, requires_container, wait_for

APP_DIR = '/tmp/app'
WORKER = 'import time\nprint("ready", flush=True)\nwhile True:\n    time.sleep(0.05)\n'
# Keeps two workers running, restarting one 0.2 s after it died, like gunicorn's arbiter; logs
# "worker PID TIME" (TIME: time.monotonic(), the same clock as the test's) for each start.
SUPERVISOR = '''
import subprocess, sys, time
def start():
    worker = subprocess.Popen([sys.executable, "-u", "/tmp/app/worker.py"])
    print("worker", worker.pid, time.monotonic(), flush=True)
    return worker
workers = [start(), start()]
while True:
    time.sleep(0.2)
    workers = [w if w.poll() is None else start() for w in workers]
'''
SLEEPER = ('import signal, time\nsignal.signal(signal.SIGUSR1, lambda *a: None)\n'
           'print("ready", flush=True)\ntime.sleep(1000)\n')


def timing(label, seconds):
    sys.stderr.write('\n    [timing] %s: %.3f s\n' % (label, seconds))


def worker_starts(log):
    """[(pid, time)] of the supervisor's "worker PID TIME" lines."""
    return [(int(line.split()[1]), float(line.split()[2])) for line in log.splitlines() if line.startswith('worker ')]


@requires_container
class SessionContainerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.logs = tempfile.mkdtemp(prefix='wand-test-logs-')
        cls.c = Container(TEST_ROOT, cls.logs)
        os.makedirs(cls.c.host_path(APP_DIR))
        for name, source in (('worker.py', WORKER), ('supervisor.py', SUPERVISOR)):
            with open(cls.c.host_path('%s/%s' % (APP_DIR, name)), 'w') as f:
                f.write(source)

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()
        shutil.rmtree(cls.logs, ignore_errors=True)

    def tearDown(self):
        leftovers = [e for e in self.c.tmp_entries() if e.startswith('wand-') and not e.startswith('wand-debugpy-')]
        self.assertEqual(leftovers, [], 'files left in the container /tmp')

    def session(self):
        session = self.c.session()
        self.addCleanup(session.stop)
        return session

    def target(self, code):
        proc = self.c.python(code, ready='ready')
        self.addCleanup(proc.stop)
        return proc

    def kill_in_container(self, pid):
        self.assertEqual(self.c.run(['python3', '-c', 'import os; os.kill(%d, 9)' % pid]).returncode, 0)

    def agent_host_pid(self, session):
        """The agent's own pid on the host (the session's process is nsenter, which does not forward signals)."""
        return wait_for(lambda: children(session.proc.pid), what='the agent under nsenter')[0]

    def inject(self, session, pid, port):
        return session.send({'op': 'inject', 'pid': pid, 'port': port, 'waitForClient': False, 'timeoutSeconds': 10})

    def listening(self, session, request_id):
        event = session.final(request_id)
        self.assertEqual(event['event'], 'result', event)
        client = Dap(event['result']['port'])
        try:
            client.initialize()
        finally:
            client.close()
        return event['result']

    def test_two_workers_at_once_then_a_reload_followed_on_the_same_session(self):
        supervisor = self.c.start(['python3', '-u', APP_DIR + '/supervisor.py'], name='supervisor')
        self.addCleanup(supervisor.stop)
        wait_for(lambda: len(worker_starts(supervisor.log())) == 2, what='two workers')
        s = self.session()
        begun = time.monotonic()
        listed = s.request({'op': 'list', 'sampleSeconds': 0})
        workers = sorted(p['pid'] for p in listed['processes'] if p['ppid'] == supervisor.pid)
        self.assertEqual(workers, sorted(pid for pid, _ in worker_starts(supervisor.log())))
        ports = [free_port(), free_port()]
        requests = [self.inject(s, pid, port) for pid, port in zip(workers, ports)]
        results = [self.listening(s, r) for r in requests]
        timing('session: list + inject two workers at once, until both listen', time.monotonic() - begun)
        self.assertEqual([(r['pid'], r['port'], r['reused']) for r in results],
                         [(workers[0], ports[0], False), (workers[1], ports[1], False)])
        self.assertEqual([[e['event'] for e in s.events_of(r)] for r in requests], [['started', 'result']] * 2)

        watch = s.send({'op': 'watch', 'pids': workers + [supervisor.pid]})
        s.final(watch)
        mark = len(s.log)
        killed_at = time.monotonic()
        self.kill_in_container(workers[0])
        self.assertEqual(s.wait_event(lambda e: e['event'] == 'exited', after=mark)['pids'], [workers[0]])
        new_worker = wait_for(lambda: [pid for pid, _ in worker_starts(supervisor.log()) if pid not in workers],
                              what='a new worker')[0]
        started_at = dict(worker_starts(supervisor.log()))[new_worker]
        at_shown, shown = s.wait_event(
            lambda e: e['event'] == 'processes' and new_worker in [p['pid'] for p in e['processes']],
            after=mark, with_time=True)
        record = [p for p in shown['processes'] if p['pid'] == new_worker][0]
        self.assertEqual((record['ppid'], record['debuggable']), (supervisor.pid, True))
        self.assertEqual(shown['id'], watch)

        # the dead worker's port is free again: its debugpy adapter (no client) ended with it
        again = self.listening(s, self.inject(s, new_worker, ports[0]))
        self.assertEqual((again['pid'], again['port'], again['reused']), (new_worker, ports[0], False))
        reinjected_at = time.monotonic()
        timing('worker started -> `processes` showing it', at_shown - started_at)
        timing('watched worker killed -> new worker injected and listening (supervisor pauses 0.2 s)',
               reinjected_at - killed_at)
        # figures only (timing above, the bench has the real ones): a loaded machine stretches them
        self.assertEqual(s.end_input()[0], 0)

    def test_end_of_stdin_while_the_target_has_not_run_the_payload(self):
        sleeper = self.target(SLEEPER)
        s = self.session()
        request = s.send({'op': 'exec', 'pid': sleeper.pid, 'code': 'print("SHOULD NOT RUN")', 'timeoutSeconds': 30})
        s.wait_event(lambda e: e.get('id') == request and e['event'] == 'waiting')
        code, seconds = s.end_input()
        self.assertEqual(code, 0)
        # it did not wait for the exec's 30 s timeout (not a speed bound: a loaded machine is slow)
        self.assertLess(seconds, 15.0)
        assert_pending_payload_disarmed(self, self.c, sleeper)

    def test_end_of_stdin_while_injected_code_runs(self):
        ticker = self.target(WORKER)
        s = self.session()
        request = s.send({'op': 'exec', 'pid': ticker.pid, 'code': 'import time; time.sleep(2)', 'timeoutSeconds': 30})
        s.wait_event(lambda e: e.get('id') == request and e['event'] == 'started')
        self.assertEqual(s.end_input()[0], 0)
        self.assertEqual([e for e in self.c.tmp_entries() if e.startswith('wand-')], [])

    def test_sigterm_while_injecting(self):
        ticker = self.target(WORKER)
        s = self.session()
        s.send({'op': 'exec', 'pid': ticker.pid, 'code': 'import time; time.sleep(2)', 'timeoutSeconds': 30})
        s.wait_event(lambda e: e['event'] == 'started')
        os.kill(self.agent_host_pid(s), signal.SIGTERM)
        self.assertEqual(s.proc.wait(5), 0)
        self.assertEqual([e for e in self.c.tmp_entries() if e.startswith('wand-')], [])

    def test_list_without_sampling_in_a_session(self):
        self.target(WORKER)
        s = self.session()
        s.request({'op': 'list', 'sampleSeconds': 0})
        begun = time.monotonic()
        result = s.request({'op': 'list', 'sampleSeconds': 0})
        timing('list sampleSeconds=0 in a container session, round trip', time.monotonic() - begun)
        self.assertEqual(result['agentPython'].split('.')[:2], ['3', '14'])
        self.assertTrue(any(p['debuggable'] for p in result['processes']))


if __name__ == '__main__':
    unittest.main()
