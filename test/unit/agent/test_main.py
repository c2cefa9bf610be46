"""Entry points (wand_agent/main.py), run exactly as the CLI runs the assembled agent: one-shot\n`python3 -` with the program and a main(...) line, and session mode (serve()) on this machine's\nPython and /proc; the same against Python 3.14 in a container is in test_agent_session_rootfs.py."""

import json
import os
import subprocess
import sys
import time
import unittest

from wandtest import HOST_VERSION, READY_AND_SLEEP, Session, agent_source, run_agent, sleeper, spawn_python, stop, wait_for, wait_ready
from wand_agent import helper_python


class FramingTest(unittest.TestCase):
    """Run the agent exactly as the CLI does: `python3 -` with the program and a main(...) line."""

    def test_list_round_trip(self):
        child = spawn_python(READY_AND_SLEEP, options=['-X', 'disable-remote-debug'],
                             env={'PYTHON_DISABLE_REMOTE_DEBUG': '1', 'RUN_MAIN': 'true', 'WAND_TEST_SECRET': 's3'})
        busy = spawn_python('print("ready", flush=True)\nwhile True: pass')
        try:
            wait_ready(child)
            wait_ready(busy)
            run = run_agent({'op': 'list', 'sampleSeconds': 0.5})
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(len(run.events), 1)
            result = run.result
            self.assertEqual(result['agentPython'], HOST_VERSION)
            self.assertEqual(result['capabilities']['uid'], os.getuid())
            records = dict((p['pid'], p) for p in result['processes'])
            record = records[child.pid]
            self.assertEqual(record['ppid'], os.getpid())
            self.assertEqual(record['uid'], os.getuid())
            self.assertEqual(record['python'], HOST_VERSION)
            self.assertEqual(record['env'], {'RUN_MAIN': 'true', 'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
            self.assertEqual(record['xOptions'], ['disable-remote-debug'])
            self.assertFalse(record['debuggable'])
            self.assertEqual(record['reason'], 'started with -X disable-remote-debug')
            self.assertGreater(record['rssBytes'], 1 << 20)
            self.assertLess(record['uptimeSeconds'], 60)
            # a shared machine may starve the busy loop: compare rather than expect ~100%
            self.assertLess(record['cpuPercent'], 5)
            self.assertGreater(records[busy.pid]['cpuPercent'], 10)
            self.assertNotIn('s3', json.dumps(record['env']))
            self.assertNotIn('WAND_TEST_SECRET', run.stdout)
            # the agent and its version probes are not listed
            self.assertFalse([p for p in result['processes'] if p['argv'] == [sys.executable, '-']])
            self.assertFalse([p for p in result['processes'] if helper_python.PROBE_SOURCE in p['argv']])
        finally:
            stop(child, busy)

    def test_malformed_request(self):
        proc = subprocess.run([sys.executable, '-'], input=agent_source() + b'\nmain("%%%")\n',
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(events[-1]['event'], 'error')
        self.assertEqual(events[-1]['code'], 'internal')

    def test_unknown_operation(self):
        run = run_agent({'op': 'explode'})
        self.assertEqual((run.returncode, run.last['event'], run.last['code']), (1, 'error', 'internal'))


SUPERVISOR = """
import subprocess, sys, time
while True:
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "wand-test-worker"],
                              stdout=subprocess.DEVNULL)
    print("worker", worker.pid, time.monotonic(), flush=True)
    worker.wait()
    time.sleep(float(sys.argv[1]))
"""


class Supervisor(object):
    def __init__(self, pause):
        # a session of its own, so that stop() ends the workers too
        self.proc = subprocess.Popen([sys.executable, '-c', SUPERVISOR, str(pause)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, start_new_session=True)
        self.worker, self.started_at = self.next_worker()

    def next_worker(self):
        _, pid, at = self.proc.stdout.readline().split()
        self.worker, self.started_at = int(pid), float(at)
        return self.worker, self.started_at

    def stop(self):
        os.killpg(self.proc.pid, 9)
        self.proc.wait()
        self.proc.stdout.close()


def live_pids(event):
    """pids in a `processes` event, zombies (no argv) left out: the manager may not have reaped yet."""
    return [p['pid'] for p in event['processes'] if p['argv']]


def timing(label, seconds):
    sys.stderr.write('\n    [timing] %s: %.3f s\n' % (label, seconds))


class SessionTest(unittest.TestCase):
    """serve(): one agent process answering many requests, as over one `kubectl exec`."""

    def setUp(self):
        self.session = Session()
        self.addCleanup(self.session.stop)

    def test_ready_then_concurrent_requests_each_answered_under_its_id(self):
        s = self.session
        self.assertEqual(s.ready, {'event': 'ready', 'id': 0, 'agentPython': HOST_VERSION, 'pid': s.proc.pid,
                                   'hostname': os.uname().nodename})
        slow = s.send({'op': 'list', 'sampleSeconds': 0.5})
        fast = s.send({'op': 'list', 'sampleSeconds': 0})
        failing = s.send({'op': 'stack', 'pid': 999999999})
        error = s.final(failing)
        self.assertEqual((error['event'], error['code']), ('error', 'no-such-process'))
        at_fast, quick = s.wait_event(lambda e: e.get('id') == fast and e['event'] == 'result', with_time=True)
        at_slow, _ = s.wait_event(lambda e: e.get('id') == slow and e['event'] == 'result', with_time=True)
        self.assertLess(at_fast, at_slow)
        self.assertEqual(set(p['cpuPercent'] for p in quick['result']['processes']), {0.0})
        self.assertFalse([p for p in quick['result']['processes'] if p['pid'] == s.proc.pid])
        self.assertTrue(all('id' in e for _, e in s.log if e is not None))

    def test_list_without_sampling_is_fast(self):
        self.session.request({'op': 'list', 'sampleSeconds': 0})  # asks each interpreter its version once
        begun = time.monotonic()
        self.session.request({'op': 'list', 'sampleSeconds': 0})
        seconds = time.monotonic() - begun
        timing('list sampleSeconds=0 in a session, round trip (%d host processes)' % len(os.listdir('/proc')), seconds)
        # a gross bound (the figure is printed; speed is the bench's business): asking every
        # interpreter its version again would start one process per Python process listed
        self.assertLess(seconds, 5.0)

    def test_unreadable_requests(self):
        s = self.session
        s.write_line(b'{not json')
        self.assertIsNone(s.wait_event(lambda e: e['event'] == 'error')['id'])
        s.write_line(b'{"op": "list"}')
        s.send({'id': 5, 'op': 'explode'})
        s.send({'id': 6, 'op': 'watch', 'pids': ['one']})
        self.assertIn('unknown operation', s.final(5)['message'])
        self.assertIn('pids', s.final(6)['message'])
        self.assertEqual(len([e for _, e in s.log if e and e['event'] == 'error' and e['id'] is None]), 2)
        self.assertEqual(s.request({'op': 'list', 'sampleSeconds': 0})['op'], 'list')

    def test_watch_reports_an_exit_then_the_table_until_the_new_worker_shows(self):
        s = self.session
        supervisor = Supervisor(pause=0.3)
        self.addCleanup(supervisor.stop)
        worker = supervisor.worker
        watch = s.send({'op': 'watch', 'pids': [worker, supervisor.proc.pid, worker]})
        self.assertEqual(s.final(watch)['result'], {'op': 'watch', 'pids': sorted([worker, supervisor.proc.pid])})
        mark = len(s.log)
        killed_at = time.monotonic()
        os.kill(worker, 9)
        self.assertEqual(s.wait_event(lambda e: e['event'] == 'exited', after=mark),
                         {'event': 'exited', 'id': watch, 'pids': [worker]})
        at_first, first = s.wait_event(lambda e: e['event'] == 'processes', after=mark, with_time=True)
        self.assertEqual(first['id'], watch)
        self.assertNotIn(worker, live_pids(first))
        self.assertIn(supervisor.proc.pid, live_pids(first))

        new_worker, started_at = supervisor.next_worker()
        at_new, shown = s.wait_event(lambda e: e['event'] == 'processes' and new_worker in live_pids(e),
                                     after=mark, with_time=True)
        record = [p for p in shown['processes'] if p['pid'] == new_worker][0]
        self.assertEqual((record['ppid'], record['argv'][-1], record['cpuPercent']),
                         (supervisor.proc.pid, 'wand-test-worker', 0.0))
        timing('watched worker killed -> first `processes`', at_first - killed_at)
        timing('new worker started -> `processes` showing it', at_new - started_at)
        self.assertLess(at_new - started_at, 1.0)
        # reported only when the set of (pid, argv) changed
        tables = [sorted((p['pid'], p['argv']) for p in e['processes'])
                  for e in s.events_of(watch) if e['event'] == 'processes']
        self.assertTrue(all(a != b for a, b in zip(tables, tables[1:])))

    def test_a_pid_gone_before_the_watch_is_reported_at_once(self):
        watch = self.session.send({'op': 'watch', 'pids': [999999999]})
        self.assertEqual(self.session.wait_event(lambda e: e['event'] == 'exited'),
                         {'event': 'exited', 'id': watch, 'pids': [999999999]})

    def test_a_new_watch_replaces_the_old_one(self):
        s = self.session
        first, second = sleeper(), sleeper()
        self.addCleanup(stop, second)
        s.final(s.send({'op': 'watch', 'pids': [first.pid]}))
        watch = s.send({'op': 'watch', 'pids': [second.pid]})
        s.final(watch)
        stop(first)
        time.sleep(0.7)
        self.assertEqual([e for _, e in s.log if e and e['event'] == 'exited'], [])
        second.kill()
        self.assertEqual(s.wait_event(lambda e: e['event'] == 'exited'),
                         {'event': 'exited', 'id': watch, 'pids': [second.pid]})

    def test_end_of_stdin_ends_the_session_at_once_even_mid_request(self):
        s = self.session
        busy = s.send({'op': 'list', 'sampleSeconds': 5})
        s.final(s.send({'op': 'watch', 'pids': [os.getpid()]}))
        code, seconds = s.end_input()
        self.assertEqual(code, 0)
        self.assertLess(seconds, 4.0)  # it did not wait for the 5 s sample to end
        self.assertEqual(s.events_of(busy), [])

    def test_sigterm_and_sighup_end_the_session(self):
        self.session.proc.send_signal(15)
        self.assertEqual(self.session.proc.wait(5), 0)
        other = Session()
        self.addCleanup(other.stop)
        other.proc.send_signal(1)
        self.assertEqual(other.proc.wait(5), 0)


if __name__ == '__main__':
    unittest.main()
