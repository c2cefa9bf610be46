"""Process records (wand_agent/listing.py): facts, version probes, reasons and their codes."""

import os
import subprocess
import sys
import unittest
from unittest import mock

from wandtest import HOST_VERSION, READY_AND_SLEEP, run_agent, spawn_python, stop, wait_ready
from wand_agent import contract, helper_python, listing, procfs


class ProcessFactsTest(unittest.TestCase):
    def test_real_child_process(self):
        child = spawn_python(READY_AND_SLEEP, options=['-X', 'dev', '-X', 'utf8'],
                             env={'WERKZEUG_RUN_MAIN': 'true', 'WAND_TEST_SECRET': 'hunter2'},
                             argv_tail=['--flag', 'with space'])
        try:
            wait_ready(child)
            facts = listing.ProcessFacts(child.pid, procfs.read_stat(child.pid))
            self.assertEqual(facts.stat['ppid'], os.getpid())
            self.assertEqual(facts.argv, [sys.executable, '-X', 'dev', '-X', 'utf8', '-c', READY_AND_SLEEP,
                                          '--flag', 'with space'])
            self.assertEqual(facts.xoptions, ['dev', 'utf8'])
            self.assertTrue(facts.is_python)
            self.assertEqual(os.path.realpath(facts.exe), os.path.realpath(sys.executable))
            self.assertEqual(facts.cwd, os.getcwd())
            self.assertEqual(procfs.reported_env(facts.environ)['WERKZEUG_RUN_MAIN'], 'true')
            self.assertNotIn('WAND_TEST_SECRET', procfs.reported_env(facts.environ))
            self.assertEqual(helper_python.probe_python('/proc/%d/exe' % child.pid)[0], HOST_VERSION)
        finally:
            stop(child)


class VersionProbeTest(unittest.TestCase):
    def test_own_interpreter_needs_no_version_probe(self):
        # a grandchild: list leaves out the agent's own children
        parent = subprocess.Popen(
            [sys.executable, '-c', 'import subprocess, sys\n'
             'p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])\n'
             'print(p.pid, flush=True)\nsys.stdin.read()\np.kill()\np.wait()'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(parent.wait)
        self.addCleanup(parent.stdin.close)
        child_pid = int(parent.stdout.readline())
        parent.stdout.close()
        real_start, probed = helper_python.start_target_python, []

        def recording(exe_path, *args, **kwargs):
            probed.append(os.stat(exe_path).st_ino)
            return real_start(exe_path, *args, **kwargs)
        listing.start_target_python = helper_python.start_target_python = recording
        listing._known_versions.clear()
        try:
            records = dict((p['pid'], p) for p in listing.list_processes(0)['processes'])
            own = helper_python.probe_python('/proc/%d/exe' % child_pid)
        finally:
            listing.start_target_python = helper_python.start_target_python = real_start
        self.assertEqual(records[child_pid]['python'], HOST_VERSION)
        self.assertNotIn(os.stat(sys.executable).st_ino, probed)
        # the same answers as the probe would give
        probe = subprocess.run([sys.executable, '-S', '-c', helper_python.PROBE_SOURCE], stdout=subprocess.PIPE,
                               env=helper_python.helper_env(), check=True)
        self.assertEqual(own, helper_python.parse_probe_output(probe.stdout.decode()))


class ReasonCodeTest(unittest.TestCase):
    CAPS = {'uid': os.getuid(), 'gid': os.getgid(), 'sysPtrace': False, 'permitted': 0, 'yamaPtraceScope': None}

    def facts(self, is_python=True, uid=None, environ=None, xoptions=()):
        facts = listing.ProcessFacts.__new__(listing.ProcessFacts)
        facts.pid = os.getpid()  # the agent may always read its own memory
        uid = os.getuid() if uid is None else uid
        facts.status = {'Uid': '%d\t%d\t%d\t%d' % ((uid,) * 4), 'Gid': '%d\t%d\t%d\t%d' % ((os.getgid(),) * 4),
                        'CapPrm': '0'}
        facts.environ = {} if environ is None else environ
        facts.is_python, facts.flags, facts.xoptions = is_python, set(), list(xoptions)
        return facts

    def unusable(self, facts, version='3.14.0', supported=True):
        return facts.unusable(self.CAPS, version, supported)

    def test_each_reason_has_the_code_inspect_target_would_raise(self):
        self.assertIsNone(self.unusable(self.facts()))
        self.assertEqual(self.unusable(self.facts(is_python=False)), ('not-python', 'not a Python process'))
        refused = ('other-uid', 'no permission to trace it: it runs as uid 1')
        with mock.patch.object(listing, 'probe_trace', lambda *args: refused):
            self.assertEqual(self.unusable(self.facts(uid=os.getuid() + 1)), ('permission-denied', refused[1]))
        self.assertEqual(self.unusable(self.facts(), version=None)[0], 'internal')
        self.assertEqual(self.unusable(self.facts(), version='3.8.18')[0], 'python-too-old')
        self.assertIsNone(self.unusable(self.facts(), version='3.13.1', supported=None))
        self.assertEqual(self.unusable(self.facts(environ={'PYTHON_DISABLE_REMOTE_DEBUG': ''}), version='3.9.18'),
                         ('remote-debug-disabled', 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment'))
        self.assertEqual(self.unusable(self.facts(), supported=False)[0], 'remote-debug-disabled')
        self.assertEqual(self.unusable(self.facts(xoptions=['disable-remote-debug']))[0], 'remote-debug-disabled')
        self.assertEqual(self.unusable(self.facts(environ={'PYTHON_DISABLE_REMOTE_DEBUG': ''})),
                         ('remote-debug-disabled', 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment'))

    def test_a_refused_process_says_what_a_tracer_let_in_would_find(self):
        refused = ('yama-scope-1', 'no permission to trace it: Yama ptrace_scope=1')
        with mock.patch.object(listing, 'probe_trace', lambda *args: refused):
            facts = self.facts(environ={'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
            self.assertEqual(self.unusable(facts), ('permission-denied', refused[1]))
            self.assertEqual(facts.if_traced_record(), {'debuggable': False, 'reasonCode': 'remote-debug-disabled',
                                                        'reason': 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment'})
            facts = self.facts()
            self.unusable(facts)
            self.assertEqual(facts.if_traced_record(), {'debuggable': True, 'reason': None, 'reasonCode': None})
        facts = self.facts()
        self.assertIsNone(self.unusable(facts))
        self.assertIsNone(facts.if_traced_record(), 'only with a refusal')

    def test_every_record_carries_a_code_of_the_contract_or_none(self):
        child = spawn_python(READY_AND_SLEEP, env={'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
        try:
            wait_ready(child)
            # the assembled agent, so that `child` is not its own child (those are left out)
            records = run_agent({'op': 'list', 'sampleSeconds': 0}).result['processes']
        finally:
            stop(child)
        for record in records:
            self.assertEqual(record['reasonCode'] is None, record['debuggable'], record)
            self.assertEqual(record['reasonCode'] is None, record['reason'] is None, record)
            if record['reasonCode'] is not None:
                self.assertIn(record['reasonCode'], contract.ERROR_CODES)
        [mine] = [r for r in records if r['pid'] == child.pid]
        self.assertEqual(mine['reasonCode'], 'remote-debug-disabled')
        self.assertEqual(mine['injector'], 'ptrace' if sys.version_info < (3, 14) else 'remote_exec')

    def test_redact_argv(self):
        self.assertEqual(listing.redact_argv(['a', '--server-access-token', 's3', '--x']),
                         ['a', '--server-access-token', '***', '--x'])


if __name__ == '__main__':
    unittest.main()
