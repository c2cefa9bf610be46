"""Trying the permission to trace (wand_agent/trace_probe.py): a real read, a real refusal."""

import errno
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from wand_agent import contract, trace_probe

#: an interpreter another user may run (pyenv's live under /root)
SYSTEM_PYTHON = '/usr/bin/python3'
CAPS = {'uid': os.getuid(), 'gid': os.getgid(), 'sysPtrace': False, 'permitted': 0, 'yamaPtraceScope': None}


def same_user_status():
    return {'Uid': '%d\t%d\t%d\t%d' % ((os.getuid(),) * 4), 'Gid': '%d\t%d\t%d\t%d' % ((os.getgid(),) * 4),
            'CapPrm': '0'}


class ProbeTest(unittest.TestCase):
    def test_reading_a_child_of_the_same_user_is_allowed(self):
        child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])
        try:
            self.assertEqual(trace_probe.read_one_word(child.pid), 0)
            self.assertIsNone(trace_probe.probe_trace(child.pid, same_user_status(), True, CAPS))
        finally:
            child.kill()
            child.wait()

    @unittest.skipUnless(os.getuid() == 0 and os.path.exists(SYSTEM_PYTHON), 'needs root and /usr/bin/python3')
    def test_a_real_refusal_is_named_from_the_ids(self):
        # the probe as uid 65534 (no capabilities) against this root process: the kernel says EPERM;
        # the package is copied where that user may read it (a checkout may sit in a 0700 directory)
        readable = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, readable)
        os.chmod(readable, 0o755)
        shutil.copytree(os.path.dirname(trace_probe.__file__), os.path.join(readable, 'wand_agent'))
        code = ('import sys; sys.path.insert(0, %r); from wand_agent import trace_probe, tracing, procfs; '
                'c = tracing.agent_capabilities(); s = procfs.read_status(%d); '
                'print(trace_probe.read_one_word(%d), trace_probe.probe_trace(%d, s, False, c)[0])'
                % (readable, os.getpid(), os.getpid(), os.getpid()))
        out = subprocess.run([SYSTEM_PYTHON, '-c', code], stdout=subprocess.PIPE, check=True,
                             preexec_fn=lambda: (os.setgid(65534), os.setuid(65534))).stdout.decode().split()
        self.assertEqual(out, [str(errno.EPERM), 'other-uid'])

    def test_refusal_causes_beyond_the_prediction(self):
        status = same_user_status()
        with mock.patch.object(trace_probe, 'read_one_word_once', lambda pid, status: errno.EPERM):
            with mock.patch.object(trace_probe, 'agent_seccomp_mode', lambda: 2):
                self.assertEqual(trace_probe.probe_trace(1, status, True, CAPS)[0], 'seccomp')
            with mock.patch.object(trace_probe, 'agent_seccomp_mode', lambda: 0):
                self.assertEqual(trace_probe.probe_trace(1, status, True, CAPS)[0], 'unknown')
                self.assertEqual(trace_probe.probe_trace(1, status, True, dict(CAPS, yamaPtraceScope=1))[0],
                                 'yama-scope-1')
                with mock.patch.object(trace_probe, 'non_dumpable', lambda pid, status: True):
                    self.assertEqual(trace_probe.probe_trace(1, status, True, CAPS)[0], 'not-dumpable')
        with mock.patch.object(trace_probe, 'read_one_word_once', lambda pid, status: errno.ENOSYS):
            self.assertEqual(trace_probe.probe_trace(1, status, True, CAPS)[0], 'no-process-vm')
        with mock.patch.object(trace_probe, 'read_one_word_once', lambda pid, status: 0):
            # tried, not predicted: a read that went through wins over Yama's scope
            self.assertIsNone(trace_probe.probe_trace(1, status, True, dict(CAPS, yamaPtraceScope=1)))

    def test_every_code_is_the_contracts(self):
        for code in ('not-dumpable', 'seccomp', 'no-process-vm', 'unknown'):
            self.assertIn(code, contract.TRACE_DENIAL_CODES)


if __name__ == '__main__':
    unittest.main()
