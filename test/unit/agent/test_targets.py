"""Target validation and the helpers' error text (wand_agent/targets.py)."""

import os
import subprocess
import unittest

from wand_agent import events, targets





class HelperErrorTest(unittest.TestCase):
    def code(self, text, pid=None):
        return targets.error_from_helper(os.getpid() if pid is None else pid, text, 'inject into').code

    def test_known_texts(self):
        self.assertEqual(self.code('RuntimeError: Remote debugging is not enabled in the remote process'),
                         'remote-debug-disabled')
        self.assertEqual(self.code("RuntimeError: Can't send commands from a Python 3.13 process"), 'version-mismatch')
        self.assertEqual(self.code('PermissionError: [Errno 1] Operation not permitted'), 'permission-denied')
        self.assertEqual(self.code('OSError: Function not implemented'), 'internal')
        self.assertEqual(self.code('anything', pid=999999999), 'no-such-process')
        self.assertEqual(self.code(''), 'internal')


class InspectTargetTest(unittest.TestCase):
    def test_missing_and_non_python_processes(self):
        for pid, code in ((999999999, 'no-such-process'), (0, 'no-such-process'), (os.getpid(), 'no-such-process')):
            with self.assertRaises(events.AgentError) as caught:
                targets.inspect_target(pid)
            self.assertEqual(caught.exception.code, code)
        sleep = subprocess.Popen(['sleep', '30'])
        try:
            with self.assertRaises(events.AgentError) as caught:
                targets.inspect_target(sleep.pid)
            self.assertEqual(caught.exception.code, 'not-python')
        finally:
            sleep.kill()
            sleep.wait()


if __name__ == '__main__':
    unittest.main()
