"""Session mode of the agent (serve(), watch) on this machine's Python and /proc; the same against
Python 3.14 in a container is in test_agent_rootfs.py. Run: python3 -m unittest discover -s test/unit/agent -v
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from wandtest import Session, load_agent, wait_for

agent = load_agent()
HOST_VERSION = '%d.%d.%d' % sys.version_info[:3]
SLEEPER = 'import time; print("ready", flush=True); time.sleep(600)'

# A manager that restarts its worker (like a reloader or an arbiter): prints "worker PID TIME" each
# time it started one (TIME: time.monotonic(), the test's clock too), waits for it, pauses argv[1] s.
SUPERVISOR = """
import subprocess, sys, time
while True:
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "wand-test-worker"],
                              stdout=subprocess.DEVNULL)
    print("worker", worker.pid, time.monotonic(), flush=True)
    worker.wait()
    time.sleep(float(sys.argv[1]))
"""


def sleeper():
    proc = subprocess.Popen([sys.executable, '-c', SLEEPER], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b'ready')
    return proc


def stop(proc):
    proc.kill()
    proc.wait()
    proc.stdout.close()


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
        self.assertLess(seconds, 0.5)

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
        self.assertLess(seconds, 1.0)
        self.assertEqual(s.events_of(busy), [])

    def test_sigterm_and_sighup_end_the_session(self):
        self.session.proc.send_signal(15)
        self.assertEqual(self.session.proc.wait(5), 0)
        other = Session()
        self.addCleanup(other.stop)
        other.proc.send_signal(1)
        self.assertEqual(other.proc.wait(5), 0)


class WatcherTest(unittest.TestCase):
    """The watch thread in this process, with its /proc reads counted."""

    def setUp(self):
        self.events = []
        self.reads = {'list_pids': 0, 'read_stat': 0}
        for name in self.reads:
            self.count_calls(name)

    def count_calls(self, name):
        original = getattr(agent, name)

        def counted(*args):
            self.reads[name] += 1
            return original(*args)
        self.patch(name, counted)

    def patch(self, name, value):
        self.addCleanup(setattr, agent, name, getattr(agent, name))
        setattr(agent, name, value)

    def watch(self, pids):
        watcher = agent.Watcher(self.events.append)
        watcher.start()
        watcher.replace(7, pids, lambda: None)
        # an empty watch leaves the thread idle for good: it reads nothing that other tests count
        self.addCleanup(watcher.replace, 8, [], lambda: None)

    def kill_and_wait_for_the_table(self, child):
        """Seconds from the kill until `processes` (after `exited`)."""
        begun = time.monotonic()
        child.kill()
        wait_for(lambda: [e for e in self.events if e['event'] == 'processes'], timeout=5, what='processes')
        self.assertEqual(self.events[0], {'event': 'exited', 'id': 7, 'pids': [child.pid]})
        return time.monotonic() - begun

    def test_idle_watch_reads_nothing_from_proc(self):
        child = sleeper()
        self.addCleanup(stop, child)
        self.watch([child.pid])
        time.sleep(1.0)
        self.assertEqual(self.reads, {'list_pids': 0, 'read_stat': 0})
        self.assertEqual(self.events, [])
        self.kill_and_wait_for_the_table(child)
        self.assertGreater(self.reads['list_pids'], 0)

    def test_without_pidfds_it_polls_the_watched_pids_only(self):
        self.patch('open_pidfd', lambda pid: None)
        child = sleeper()
        self.addCleanup(stop, child)
        self.watch([child.pid])
        time.sleep(1.2)
        self.assertEqual(self.reads['list_pids'], 0)
        self.assertLessEqual(self.reads['read_stat'], 4)  # at start, then every 0.5 s
        self.assertLess(self.kill_and_wait_for_the_table(child), agent.WATCH_POLL_SECONDS + 0.5)

    def test_polling_counts_a_zombie_as_exited(self):
        self.patch('open_pidfd', lambda pid: None)
        child = subprocess.Popen(['sleep', '60'])
        self.addCleanup(child.wait)
        watch = agent.ProcessWatch(child.pid)
        self.assertFalse(watch.exited())
        child.kill()
        wait_for(lambda: agent.read_stat(child.pid)['state'] == 'Z', what='a zombie')
        self.assertTrue(watch.exited())


class SessionCleanupTest(unittest.TestCase):
    """A session that ends removes the files of requests still in flight, from its main thread."""

    def payload_files(self):
        files = agent.PayloadFiles(tempfile.mkdtemp(prefix='wand-test-'))
        for path in (files.payload, files.status):
            open(path, 'w').close()
        return files

    def left_by_session_end(self, files, pid):
        """What remains of `files` when the session ends while a request that made them runs."""
        entered, release = threading.Event(), threading.Event()

        def request():
            with agent.cleanup_after(lambda: files.remove(pid)):
                entered.set()
                release.wait(10)
        thread = threading.Thread(target=request)
        thread.start()
        entered.wait(10)
        agent.run_pending_cleanups()
        remaining = sorted(os.listdir(files.dir)) if os.path.isdir(files.dir) else None
        release.set()
        thread.join()
        return remaining

    def test_files_of_a_request_in_flight_are_removed(self):
        self.assertIsNone(self.left_by_session_end(self.payload_files(), os.getpid()))

    def test_a_payload_still_pending_in_a_live_target_stays(self):
        files = self.payload_files()
        files.handed_over = True
        self.assertEqual(self.left_by_session_end(files, os.getpid()), ['payload'])
        os.unlink(files.payload)
        os.rmdir(files.dir)


if __name__ == '__main__':
    unittest.main()
