"""Injection core (wand_agent/injection.py): starting targets, payload errors, exception chains."""

import subprocess
import sys
import unittest
from unittest import mock

from wandtest import HOST_VERSION
from wand_agent import events, injection, listing, procfs, targets


class StillStartingTest(unittest.TestCase):
    def test_still_starting_only_for_a_young_process_without_a_main_thread(self):
        child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], stdin=subprocess.DEVNULL)
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        target = targets.Target(child.pid, listing.ProcessFacts(child.pid, procfs.read_stat(child.pid)), HOST_VERSION)
        missing = events.AgentError('internal', "could not inject into process %d: RuntimeError: Can't find the "
                                               'main thread in the remote process' % child.pid)
        self.assertTrue(injection.still_starting(target, missing))
        self.assertFalse(injection.still_starting(target, events.AgentError('internal', 'something else')))
        old, injection.STARTING_SECONDS = injection.STARTING_SECONDS, 0.0
        try:
            self.assertFalse(injection.still_starting(target, missing))
        finally:
            injection.STARTING_SECONDS = old


class PayloadOutcomeTest(unittest.TestCase):
    def test_a_payload_error_keeps_a_known_code_and_its_traceback(self):
        target = targets.Target.__new__(targets.Target)
        target.pid = 42
        with self.assertRaises(events.AgentError) as caught:
            injection.raise_payload_error(target, {'status': 'error', 'code': 'no-debugpy', 'message': 'm',
                                                   'traceback': 'tb'})
        self.assertEqual((caught.exception.code, caught.exception.message), ('no-debugpy', 'm\ntb'))
        with self.assertRaises(events.AgentError) as caught:
            injection.raise_payload_error(target, {'status': 'error', 'code': 'made-up'})
        self.assertEqual(caught.exception.code, 'injected-code-failed')
        with self.assertRaises(events.AgentError) as caught:
            injection.raise_payload_error(target, {'status': 'odd'})
        self.assertEqual(caught.exception.code, 'internal')

    def test_exception_chain_reads_like_the_injector(self):
        try:
            try:
                raise OSError('inner')
            except OSError as exc:
                raise RuntimeError('outer') from exc
        except RuntimeError as exc:
            self.assertEqual(injection.exception_chain(exc), 'RuntimeError: outer <- OSError: inner')


if __name__ == '__main__':
    unittest.main()


class FakeClock(object):
    """time.monotonic() that moves only when the channel below waits."""

    def __init__(self):
        self.now = 100.0

    def monotonic(self):
        return self.now


class SilentChannel(object):
    """A status channel whose payload never connects: each wait lets `timeout` pass."""

    connected = False

    def __init__(self, clock):
        self.clock = clock

    def wait(self, timeout):
        self.clock.now += max(0.0, timeout)
        return None


class RearmTest(unittest.TestCase):
    def test_queued_again_four_times_a_second_at_first_then_every_second(self):
        clock = FakeClock()
        rearmed = []
        target = type('Target', (), {'pid': 4242})()
        with mock.patch.object(injection, 'time', clock), \
                mock.patch.object(injection, 'process_exists', lambda pid: True), \
                mock.patch.object(injection, 'blocked_in', lambda pid: None), \
                mock.patch.object(injection, 'main_thread_stack_or_none', lambda target: None), \
                mock.patch.object(injection, 'emit', lambda event: None):
            with self.assertRaises(events.AgentError) as caught:
                injection.await_outcome(target, SilentChannel(clock), 4.0, lambda: rearmed.append(round(clock.now - 100.0, 2)))
        self.assertEqual(caught.exception.code, 'timeout')
        self.assertEqual(rearmed, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 3.0])
