"""Permission to trace (wand_agent/tracing.py)."""

import os
import re
import unittest

from wand_agent import contract, tracing


class PermissionTest(unittest.TestCase):
    def caps(self, **overrides):
        caps = {'uid': 1000, 'gid': 1000, 'sysPtrace': False, 'permitted': 0, 'yamaPtraceScope': None}
        caps.update(overrides)
        return caps

    def status(self, uid=1000, gid=1000, cap_prm='0000000000000000'):
        return {'Uid': '%d\t%d\t%d\t%d' % ((uid,) * 4), 'Gid': '%d\t%d\t%d\t%d' % ((gid,) * 4), 'CapPrm': cap_prm}

    def test_same_user_is_allowed(self):
        self.assertIsNone(tracing.ptrace_denial(self.status(), True, self.caps()))

    def test_other_user_needs_cap_sys_ptrace(self):
        reason = tracing.ptrace_denial(self.status(uid=0), True, self.caps())
        self.assertIn('uid 0', reason)
        self.assertIn('CAP_SYS_PTRACE', reason)
        self.assertIsNone(tracing.ptrace_denial(self.status(uid=0), True, self.caps(sysPtrace=True)))

    def test_yama(self):
        self.assertIn('ptrace_scope=1', tracing.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=1)))
        self.assertIn('ptrace_scope=2', tracing.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=2)))
        self.assertIsNone(tracing.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=2, sysPtrace=True)))
        self.assertIn('ptrace_scope=3',
                      tracing.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=3, sysPtrace=True)))

    def test_more_capabilities_or_unreadable_environ(self):
        self.assertIn('capabilities', tracing.ptrace_denial(self.status(cap_prm='00000000a80425fb'), True, self.caps()))
        self.assertIn('not readable', tracing.ptrace_denial(self.status(), False, self.caps()))

    def test_agent_capabilities_read_from_proc(self):
        caps = tracing.agent_capabilities()
        self.assertEqual(caps['uid'], os.getuid())
        with open('/proc/self/status') as f:
            cap_eff = int(re.search(r'CapEff:\s*([0-9a-f]+)', f.read()).group(1), 16)
        self.assertEqual(caps['sysPtrace'], bool(cap_eff & (1 << 19)))


class TraceDenialCodeTest(unittest.TestCase):
    caps = PermissionTest.caps
    status = PermissionTest.status

    def code(self, status, readable=True, **caps):
        denial = tracing.trace_denial(status, readable, self.caps(**caps))
        return denial and denial[0]

    def test_each_denial_has_its_code(self):
        self.assertIsNone(self.code(self.status()))
        self.assertEqual(self.code(self.status(), yamaPtraceScope=3, sysPtrace=True), 'yama-scope-3')
        self.assertEqual(self.code(self.status(), yamaPtraceScope=2), 'yama-scope-2')
        self.assertEqual(self.code(self.status(), yamaPtraceScope=1), 'yama-scope-1')
        self.assertEqual(self.code(self.status(uid=0)), 'other-uid')
        self.assertEqual(self.code(self.status(gid=0)), 'other-gid')
        self.assertEqual(self.code(self.status(cap_prm='00000000a80425fb')), 'more-capabilities')
        self.assertEqual(self.code(self.status(), readable=False), 'proc-unreadable')

    def test_codes_are_the_contracts_and_texts_unchanged(self):
        status, caps = self.status(uid=0), self.caps()
        self.assertEqual(tracing.trace_denial(status, True, caps)[1], tracing.ptrace_denial(status, True, caps))
        self.assertEqual(set(contract.TRACE_DENIAL_CODES), set(['yama-scope-3', 'yama-scope-2', 'yama-scope-1',
                                                                'other-uid', 'other-gid', 'more-capabilities',
                                                                'proc-unreadable']))


if __name__ == '__main__':
    unittest.main()
