"""Reading /proc (wand_agent/procfs.py), against this machine's real /proc."""

import os
import unittest

from wand_agent import procfs


class ProcReadingTest(unittest.TestCase):
    def test_stat_with_awkward_command_name(self):
        text = '42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 11 22 0 0 20 0 1 0 12345 1 2 3'
        stat = procfs.parse_stat(text)
        self.assertEqual((stat['state'], stat['ppid'], stat['ticks'], stat['starttime']), ('S', 7, 33, 12345))

    def test_environ_reporting_keeps_only_allowlisted_names(self):
        env = procfs.parse_environ(b'SECRET=hunter2\0RUN_MAIN=true\0A=b=c\0SERVER_SOFTWARE=gunicorn/23\0')
        self.assertEqual(env['A'], 'b=c')
        self.assertEqual(procfs.reported_env(env), {'RUN_MAIN': 'true', 'SERVER_SOFTWARE': 'gunicorn/23'})
        self.assertIsNone(procfs.reported_env(None))

    def test_passwd(self):
        self.assertEqual(procfs.read_passwd().get(0), 'root')


class ProcOfThisProcessTest(unittest.TestCase):
    def test_own_entries(self):
        pid = os.getpid()
        self.assertIn(pid, procfs.list_pids())
        self.assertTrue(procfs.process_exists(pid))
        self.assertFalse(procfs.process_exists(999999999))
        self.assertIsNone(procfs.read_stat(999999999))
        self.assertEqual(procfs.read_stat(pid)['ppid'], os.getppid())
        self.assertEqual(procfs.status_ids(procfs.read_status(pid), 'Uid')[0], os.getuid())
        self.assertEqual(procfs.read_cmdline(999999999), [])
        self.assertGreater(procfs.read_rss_bytes(pid), 1 << 20)
        self.assertGreater(procfs.read_uptime_seconds(), 0)
        self.assertIsNone(procfs.readlink_or_none('/proc/999999999/exe'))


if __name__ == '__main__':
    unittest.main()
