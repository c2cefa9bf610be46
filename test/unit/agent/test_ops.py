"""Operations (wand_agent/ops.py): request fields and the error codes of unusable targets."""

import subprocess
import sys
import unittest

from wandtest import READY_AND_SLEEP, run_agent, spawn_python, stop, wait_ready
from wand_agent import events, ops, targets


class OperationsTest(unittest.TestCase):
    def test_error_codes_for_unusable_targets(self):
        self.assertEqual(run_agent({'op': 'inject', 'pid': 999999999, 'port': 5678, 'waitForClient': False,
                                    'timeoutSeconds': 1}).last['code'], 'no-such-process')
        sleeper = subprocess.Popen(['sleep', '60'])
        old = spawn_python(READY_AND_SLEEP)
        try:
            wait_ready(old)
            run = run_agent({'op': 'exec', 'pid': sleeper.pid, 'code': 'x', 'timeoutSeconds': 1})
            self.assertEqual(run.last['code'], 'not-python')
            if sys.version_info < (3, 14):
                run = run_agent({'op': 'stack', 'pid': old.pid})
                self.assertEqual(run.last['code'], 'unsupported-python')
                self.assertIn('needs Python 3.14', run.last['message'])
        finally:
            stop(sleeper, old)

    def test_bad_request_fields(self):
        run = run_agent({'op': 'inject', 'pid': 'one', 'port': 5678, 'waitForClient': False, 'timeoutSeconds': 1})
        self.assertEqual(run.last['code'], 'internal')
        self.assertIn('pid', run.last['message'])


class RequestFieldsTest(unittest.TestCase):
    def test_require_int(self):
        self.assertEqual(ops.require_int({'pid': 7}, 'pid', 1), 7)
        for bad in ({'pid': True}, {'pid': '7'}, {'pid': 0}, {}):
            with self.assertRaises(events.AgentError):
                ops.require_int(bad, 'pid', 1)

    def test_timeout_of(self):
        self.assertEqual(ops.timeout_of({}), 30.0)
        self.assertEqual(ops.timeout_of({'timeoutSeconds': 2}), 2.0)
        for bad in (0, -1, True, 'x'):
            with self.assertRaises(events.AgentError):
                ops.timeout_of({'timeoutSeconds': bad})

    def test_check_syntax_before_touching_the_target(self):
        target = targets.Target.__new__(targets.Target)
        target.version = '%d.%d.0' % sys.version_info[:2]
        ops.check_syntax('x = 1', target)
        with self.assertRaises(events.AgentError) as caught:
            ops.check_syntax('x = (', target)
        self.assertEqual(caught.exception.code, 'injected-code-failed')
        target.version = '99.0.0'  # a newer parser than ours: the target decides
        ops.check_syntax('x = (', target)

    def test_every_operation(self):
        self.assertEqual(sorted(ops.OPERATIONS), ['close', 'doctor', 'exec', 'inject', 'list', 'stack'])


if __name__ == '__main__':
    unittest.main()


class CloseOnceListeningTest(unittest.TestCase):
    """A close that ran inside the injection's debugpy.listen() (reason 'opening') is run again."""

    def test_asks_again_until_the_listener_is_closed(self):
        replies = [{'status': 'closed', 'closed': False, 'reason': 'opening'}] * 2 + [{'status': 'closed', 'closed': True}]
        calls = []

        def fake_run_payload(target, config, timeout):
            calls.append(timeout)
            return replies[len(calls) - 1]

        saved = ops.run_payload
        ops.run_payload = fake_run_payload
        try:
            self.assertEqual(ops.close_once_listening(None, {}, 5), {'status': 'closed', 'closed': True})
        finally:
            ops.run_payload = saved
        self.assertEqual(len(calls), 3)

    def test_gives_up_at_the_deadline(self):
        saved = ops.run_payload
        ops.run_payload = lambda target, config, timeout: {'status': 'closed', 'closed': False, 'reason': 'opening'}
        try:
            self.assertEqual(ops.close_once_listening(None, {}, 0.3)['reason'], 'opening')
        finally:
            ops.run_payload = saved
