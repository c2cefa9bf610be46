"""Helper processes run with the target's own interpreter (wand_agent/helper_python.py)."""

import os
import sys
import unittest

from wandtest import HOST_VERSION
from wand_agent import helper_python





class HelperTest(unittest.TestCase):
    def test_probe_output(self):
        self.assertEqual(helper_python.parse_probe_output('3.14.0\nTrue\n'), ('3.14.0', True))
        self.assertEqual(helper_python.parse_probe_output('3.13.5\n\n'), ('3.13.5', None))
        self.assertEqual(helper_python.parse_probe_output('garbage'), (None, None))

    def test_helpers_never_inherit_the_switch_that_would_make_them_refuse(self):
        os.environ['PYTHON_DISABLE_REMOTE_DEBUG'] = '1'
        try:
            self.assertNotIn('PYTHON_DISABLE_REMOTE_DEBUG', helper_python.helper_env())
        finally:
            del os.environ['PYTHON_DISABLE_REMOTE_DEBUG']

    def test_a_helper_runs_with_the_given_interpreter_and_is_killed_after_its_time(self):
        proc = helper_python.start_target_python(sys.executable, 'import sys; print(sys.argv[1:])', ['a', 2])
        self.assertEqual(helper_python.finish_process(proc, 10), (0, "['a', '2']\n", ''))
        slow = helper_python.start_target_python(sys.executable, 'import time; time.sleep(30)')
        self.assertEqual(helper_python.finish_process(slow, 0.2), (None, '', 'timed out'))

    def test_version_of_an_interpreter(self):
        self.assertEqual(helper_python.probe_python(sys.executable)[0], HOST_VERSION)
        self.assertEqual(helper_python.python_version(), HOST_VERSION)
        self.assertEqual(helper_python.probe_python('/nonexistent/python3'), (None, None))


if __name__ == '__main__':
    unittest.main()
