"""Following process exits in session mode (wand_agent/watch.py)."""

import subprocess
import time
import unittest

from wandtest import sleeper, stop, wait_for
from wand_agent import events, procfs, watch as watching


class WatcherTest(unittest.TestCase):
    """The watch thread in this process, with its /proc reads counted."""

    def setUp(self):
        self.events = []
        self.reads = {'list_pids': 0, 'read_stat': 0}
        for name in self.reads:
            self.count_calls(name)

    def count_calls(self, name):
        original = getattr(watching, name)

        def counted(*args):
            self.reads[name] += 1
            return original(*args)
        self.patch(name, counted)

    def patch(self, name, value):
        # the names watch.py looks up (listing.list_processes reads /proc only once something exited)
        self.addCleanup(setattr, watching, name, getattr(watching, name))
        setattr(watching, name, value)

    def watch(self, pids):
        watcher = watching.Watcher(self.events.append)
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
        self.assertLess(self.kill_and_wait_for_the_table(child), watching.WATCH_POLL_SECONDS + 0.5)

    def test_polling_counts_a_zombie_as_exited(self):
        self.patch('open_pidfd', lambda pid: None)
        child = subprocess.Popen(['sleep', '60'])
        self.addCleanup(child.wait)
        watch = watching.ProcessWatch(child.pid)
        self.assertFalse(watch.exited())
        child.kill()
        wait_for(lambda: procfs.read_stat(child.pid)['state'] == 'Z', what='a zombie')
        self.assertTrue(watch.exited())


class WatchRequestTest(unittest.TestCase):
    def test_pids_sorted_without_duplicates(self):
        self.assertEqual(watching.op_watch({'pids': [3, 1, 3]}), {'op': 'watch', 'pids': [1, 3]})
        for bad in ([0], ['1'], [True], None):
            with self.assertRaises(events.AgentError):
                watching.op_watch({'pids': bad})


if __name__ == '__main__':
    unittest.main()
