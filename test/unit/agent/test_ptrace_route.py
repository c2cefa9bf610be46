"""The ptrace route (wand_agent/ptrace_route.py): when the payload is queued again, disarmed, freed."""

import signal
import unittest

import wandtest  # noqa: F401  (puts the agent package on sys.path)
from wand_agent import events, ptrace_inject, ptrace_route
from wand_agent.ptrace_process import InjectError


class FakeInjection(object):
    """Stands for ptrace_inject.Injection: records calls, reports a scripted state."""

    made = []
    launch_errors = []

    def __init__(self, pid, source):
        self.pid, self.source = pid, source
        self.page = 0x1000
        self.current = 'queued'
        self.calls = []
        FakeInjection.made.append(self)

    def launch(self, deadline):
        self.calls.append('launch')
        if FakeInjection.launch_errors:
            self.page = None
            raise FakeInjection.launch_errors.pop(0)

    def state(self):
        return self.current

    def disarm(self):
        self.calls.append('disarm')
        self.current = 'skipped'

    def free(self):
        self.calls.append('free')
        return True


class PtraceQueueTest(unittest.TestCase):
    def setUp(self):
        self.real = ptrace_route.Injection
        ptrace_route.Injection = FakeInjection
        FakeInjection.made, FakeInjection.launch_errors = [], []
        del ptrace_route._unfreed[:]

    def tearDown(self):
        ptrace_route.Injection = self.real
        del ptrace_route._unfreed[:]

    def test_rearm_queues_again_only_once_the_last_run_is_over(self):
        queue = ptrace_route.PtraceQueue(42, 'source', 10)
        queue.queue()
        queue.rearm()
        self.assertEqual(len(FakeInjection.made), 1, 'a run still queued runs once: not queued again')
        FakeInjection.made[0].current = 'done'   # it returned without reaching the agent (an import)
        queue.rearm()
        self.assertEqual(len(FakeInjection.made), 2)

    def test_forget_disarms_queued_runs_frees_finished_and_defers_running_ones(self):
        queue = ptrace_route.PtraceQueue(42, 'source', 10)
        for state in ('queued', 'done', 'running'):
            queue.queue()
            FakeInjection.made[-1].current = state
        queue.forget()
        queued, done, running = FakeInjection.made
        self.assertEqual(queued.calls, ['launch', 'disarm', 'free'])
        self.assertEqual(done.calls, ['launch', 'free'])
        self.assertEqual(running.calls, ['launch'])
        self.assertEqual(ptrace_route._unfreed, [running])
        running.current = 'done'
        ptrace_route.free_finished()
        self.assertEqual(running.calls, ['launch', 'free'])
        self.assertEqual(ptrace_route._unfreed, [])

    def test_injector_errors_keep_their_code(self):
        FakeInjection.launch_errors = [InjectError('unsupported-python', 'free-threaded')]
        queue = ptrace_route.PtraceQueue(42, 'source', 10)
        with self.assertRaises(events.AgentError) as caught:
            queue.queue()
        self.assertEqual(caught.exception.code, 'unsupported-python')

    def test_another_tracer_is_waited_for_briefly(self):
        busy = InjectError('permission-denied', 'process 42 is already traced by process 7 (a debugger or strace?)')
        FakeInjection.launch_errors = [busy, busy]
        queue = ptrace_route.PtraceQueue(42, 'source', 10)
        queue.queue()
        self.assertEqual(FakeInjection.made[0].calls, ['launch', 'launch', 'launch'])

    def test_parallel_requests_free_each_finished_run_once(self):
        """The closes of a pool's workers run in parallel threads; each sweeps the deferred runs."""
        import threading
        import time

        class SlowState(FakeInjection):
            def state(self):
                time.sleep(0.05)  # both sweeps see the run as done before either takes it
                return self.current

        ended = SlowState(42, 'source')
        ended.current = 'done'
        ptrace_route._unfreed.append(ended)
        errors = []

        def sweep():
            try:
                ptrace_route.free_finished()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(ended.calls, ['free'])
        self.assertEqual(ptrace_route._unfreed, [])


class HeldStopsTest(unittest.TestCase):
    def test_a_signal_during_a_stop_comes_back_after_it(self):
        held, received = ptrace_inject.HeldStops(), []
        old = signal.signal(signal.SIGUSR1, lambda signum, frame: received.append(signum))
        self.addCleanup(signal.signal, signal.SIGUSR1, old)
        self.assertFalse(held.defer(signal.SIGUSR1), 'nothing held: the signal acts at once')
        with held:
            self.assertTrue(held.defer(signal.SIGUSR1))
            self.assertEqual(received, [])
        for _ in range(100):  # the handler runs at the next bytecode boundary
            if received:
                break
        self.assertEqual(received, [signal.SIGUSR1])

    def test_closing_refuses_new_stops(self):
        held = ptrace_inject.HeldStops()
        held.close(0.1)
        with self.assertRaises(InjectError):
            with held:
                pass


if __name__ == '__main__':
    unittest.main()
