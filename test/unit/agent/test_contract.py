"""The constants the agent shares with src/agent/contract.ts (wand_agent/contract.py)."""

import re
import unittest

from wandtest import CONTRACT_PATH
from wand_agent import contract


class ContractTest(unittest.TestCase):
    def contract(self):
        with open(CONTRACT_PATH) as f:
            return f.read()

    def union(self, type_name):
        block = re.search(r'type %s =(.*?);' % type_name, self.contract(), re.S).group(1)
        return tuple(re.findall(r"'([a-z0-9-]+)'", block))

    def number(self, name):
        return float(re.search(r'export const %s = ([0-9.]+);' % name, self.contract()).group(1))

    def test_reported_env_matches_contract(self):
        block = re.search(r'REPORTED_ENV = \[(.*?)\]', self.contract(), re.S).group(1)
        self.assertEqual(tuple(re.findall(r"'([A-Z_]+)'", block)), contract.REPORTED_ENV)

    def test_error_codes_match_contract(self):
        self.assertEqual(set(self.union('AgentErrorCode')), set(contract.ERROR_CODES))

    def test_doctor_reason_codes_match_contract(self):
        self.assertEqual(self.union('TraceDenialCode'), contract.TRACE_DENIAL_CODES)
        self.assertEqual(self.union('RemoteDebugOffCode'), contract.REMOTE_DEBUG_OFF_CODES)

    def test_numbers_match_contract(self):
        self.assertEqual(self.number('MIN_RUN_SECONDS'), contract.MIN_RUN_SECONDS)
        self.assertEqual(self.number('DEFAULT_SAMPLE_SECONDS'), contract.DEFAULT_SAMPLE_SECONDS)


if __name__ == '__main__':
    unittest.main()
