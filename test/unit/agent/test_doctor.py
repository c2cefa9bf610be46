"""The agent's `doctor` op (wand_agent/doctor.py): against this machine's processes, and against
real processes in a throwaway container (see wandtest), which needs root and WAND_TEST_ROOT (a root
filesystem with python3.14, python3.13 and debugpy).
"""

import os
import subprocess
import sys
import tempfile
import unittest

from wandtest import READY_AND_SLEEP, TEST_ROOT, Container, requires_container, spawn_python, stop, wait_ready
from wand_agent import doctor, tracing

SLEEPER = 'import time\nprint("ready", flush=True)\nwhile True:\n    time.sleep(0.05)\n'


@requires_container
class DoctorOpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.logs = tempfile.TemporaryDirectory()
        cls.box = Container(TEST_ROOT, cls.logs.name)

    @classmethod
    def tearDownClass(cls):
        cls.box.stop()
        cls.logs.cleanup()

    def doctor(self, pids, uid=None):
        run = self.box.agent({'op': 'doctor', 'pids': pids}, uid=uid)
        self.assertEqual(run.returncode, 0, run.stderr)
        return run.result['processes']

    def test_healthy_314_process(self):
        proc = self.box.python(SLEEPER, interpreter='python3.14', ready='ready')
        [facts] = self.doctor([proc.pid])
        self.assertTrue(facts['exists'])
        self.assertTrue(facts['isPython'])
        self.assertRegex(facts['python'], r'^3\.14\.')
        self.assertIs(facts['remoteDebugBuild'], True)
        self.assertIsNone(facts['remoteDebugDisabled'])
        self.assertIsNone(facts['remoteDebugDisabledCode'])
        self.assertIsNone(facts['traceDenied'])
        self.assertIsNone(facts['traceDeniedCode'])
        self.assertIsNone(facts['debugpy']['error'])
        self.assertRegex(facts['debugpy']['version'], r'^\d+\.\d+')
        self.assertEqual(facts['writableDir'], {'path': '/tmp', 'error': None})
        self.assertIsNone(facts['debugpyPort'])
        self.assertEqual([e for e in self.box.tmp_entries() if e.startswith('wand-')], [])

    def test_each_fact_is_reported_on_its_own(self):
        proc = self.box.python(SLEEPER, interpreter='python3.13', env={'PYTHON_DISABLE_REMOTE_DEBUG': '1'},
                               ready='ready')
        [facts] = self.doctor([proc.pid])
        self.assertRegex(facts['python'], r'^3\.13\.')
        self.assertIn('PYTHON_DISABLE_REMOTE_DEBUG', facts['remoteDebugDisabled'])
        self.assertEqual(facts['remoteDebugDisabledCode'], 'env')
        self.assertIsNone(facts['traceDenied'])

    def test_another_users_process_cannot_be_traced(self):
        proc = self.box.python(SLEEPER, interpreter='python3.14', ready='ready')
        [facts] = self.doctor([proc.pid], uid=1000)
        self.assertTrue(facts['exists'])
        self.assertIn('no permission to trace it', facts['traceDenied'])
        self.assertEqual(facts['traceDeniedCode'], 'other-uid')

    def test_missing_and_non_python_processes(self):
        [gone, sleep] = self.doctor([999999, 1])
        self.assertEqual(gone['exists'], False)
        self.assertEqual(sleep['exists'], True)
        self.assertEqual(sleep['isPython'], False)
        self.assertIsNone(sleep['debugpy'])
        self.assertIsNone(sleep['writableDir'])


class DoctorHereTest(unittest.TestCase):
    """doctor_process() on this machine: every fact with its code next to its text."""

    def test_a_python_process_with_remote_debugging_switched_off(self):
        child = spawn_python(READY_AND_SLEEP, options=['-X', 'disable-remote-debug'])
        try:
            wait_ready(child)
            caps = tracing.agent_capabilities()
            facts = doctor.doctor_process(child.pid, caps, {child.pid: 5678})
        finally:
            stop(child)
        self.assertTrue(facts['exists'] and facts['isPython'])
        self.assertEqual((facts['remoteDebugDisabledCode'], facts['remoteDebugDisabled']),
                         ('x-option', 'started with -X disable-remote-debug'))
        self.assertEqual((facts['traceDeniedCode'], facts['traceDenied']), (None, None))
        self.assertEqual(facts['debugpyPort'], 5678)
        self.assertIsNotNone(facts['debugpy'])

    def test_missing_process_has_every_field(self):
        facts = doctor.doctor_process(999999999, tracing.agent_capabilities(), {})
        self.assertEqual(facts, {'pid': 999999999, 'exists': False, 'isPython': False, 'python': None,
                                 'remoteDebugBuild': None, 'remoteDebugDisabled': None,
                                 'remoteDebugDisabledCode': None, 'traceDenied': None, 'traceDeniedCode': None,
                                 'debugpy': None, 'writableDir': None, 'debugpyPort': None, 'injector': None, 'injectorRefused': None})


if __name__ == '__main__':
    unittest.main()
