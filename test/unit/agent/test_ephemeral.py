"""The ephemeral route's agent side (wand_agent/ephemeral.py) and the `end` line of a session."""

import os
import subprocess
import sys
import unittest

from wand_agent import ephemeral

AGENT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(ephemeral.__file__)))


class DebuggerContainerTest(unittest.TestCase):
    def test_nothing_is_left_out_before_the_chroot(self):
        self.assertIsNone(ephemeral._Route.own_mnt)
        self.assertFalse(ephemeral.in_debugger_container(os.getpid()))

    def test_processes_of_our_own_mount_namespace_are_ours_once_chrooted(self):
        ephemeral._Route.own_mnt = os.readlink('/proc/self/ns/mnt')
        try:
            self.assertTrue(ephemeral.in_debugger_container(os.getpid()))
            self.assertFalse(ephemeral.in_debugger_container(999999999))
        finally:
            ephemeral._Route.own_mnt = None


class EndLineTest(unittest.TestCase):
    def test_an_end_line_ends_the_session_although_stdin_stays_open(self):
        code = 'import sys; sys.path.insert(0, %r); from wand_agent.main import serve; serve()' % AGENT_DIR
        proc = subprocess.Popen([sys.executable, '-c', code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            self.assertIn(b'"ready"', proc.stdout.readline())
            proc.stdin.write(b'end\n')
            proc.stdin.flush()  # stdin stays open, as an attached container's does
            self.assertEqual(proc.wait(timeout=10), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdin.close()
            proc.stdout.close()


if __name__ == '__main__':
    unittest.main()
