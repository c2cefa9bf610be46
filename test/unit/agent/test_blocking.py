"""What a thread is blocked in (wand_agent/blocking.py)."""

import unittest

from wandtest import spawn_python, stop, wait_for, wait_ready
from wand_agent import blocking


class BlockedInTest(unittest.TestCase):
    def test_names_from_syscall_and_wchan(self):
        describe = blocking.describe_blocking
        self.assertEqual(describe('230 0x1 0x1', 'hrtimer_nanosleep', 'x86_64'), 'time.sleep()')
        self.assertEqual(describe('270 0x0', '', 'x86_64'), 'select()')
        self.assertEqual(describe('202 0x0', '', 'x86_64'), 'a lock or Event.wait()')
        self.assertEqual(describe('22 0x0', '', 'aarch64'), 'epoll_wait()')
        self.assertEqual(describe(None, 'do_epoll_wait', 'riscv64'), 'epoll_wait()')
        self.assertEqual(describe(None, 'inet_csk_accept', 'x86_64'), 'accept()')
        self.assertIsNone(describe('running', 'hrtimer_nanosleep', 'x86_64'))
        self.assertIsNone(describe(None, '0', 'x86_64'))

    def test_real_processes(self):
        cases = [
            ('import time; print("ready", flush=True); time.sleep(60)', 'time.sleep()'),
            ('import threading; print("ready", flush=True); threading.Event().wait()', 'a lock or Event.wait()'),
            ('import select; print("ready", flush=True); select.select([], [], [], 60)', 'select()'),
            ('import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); '
             'print("ready", flush=True); s.accept()', 'accept()'),
        ]
        for code, expected in cases:
            child = spawn_python(code)
            try:
                wait_ready(child)
                wait_for(lambda: blocking.blocked_in(child.pid) == expected, timeout=5, what=expected)
            finally:
                stop(child)


if __name__ == '__main__':
    unittest.main()
