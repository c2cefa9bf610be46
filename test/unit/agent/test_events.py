"""Event lines and AgentError (wand_agent/events.py)."""

import io
import json
import sys
import unittest

from wand_agent import events





class EmitTest(unittest.TestCase):
    def emitted(self, event, request_id=None):
        out, saved = io.StringIO(), sys.stdout
        events._request.id = request_id
        sys.stdout = out
        try:
            events.emit(event)
        finally:
            sys.stdout = saved
            events._request.id = None
        return out.getvalue()

    def test_one_compact_line_per_event(self):
        self.assertEqual(self.emitted({'event': 'started', 'pid': 7}), '{"event":"started","pid":7}\n')

    def test_tagged_with_the_request_id_of_the_thread_unless_it_has_one(self):
        self.assertEqual(json.loads(self.emitted({'event': 'waiting'}, request_id=3)), {'event': 'waiting', 'id': 3})
        self.assertEqual(json.loads(self.emitted({'event': 'ready', 'id': 0}, request_id=3))['id'], 0)

    def test_agent_error_carries_code_message_and_extras(self):
        error = events.AgentError('timeout', 'slow', blockedIn='select()')
        self.assertEqual((error.code, error.message, error.extra, str(error)),
                         ('timeout', 'slow', {'blockedIn': 'select()'}, 'slow'))


if __name__ == '__main__':
    unittest.main()
