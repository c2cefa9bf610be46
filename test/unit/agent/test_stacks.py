"""Stacks read by RemoteUnwinder, normalised (wand_agent/stacks.py)."""

import unittest

from wand_agent import stacks as stack_reader


class StackNormalisationTest(unittest.TestCase):
    def test_thread_info_objects_as_dicts(self):
        raw = {'threads': [
            {'thread_id': 11, 'frame_info': [{'filename': '/t.py', 'lineno': 3, 'funcname': 'Event.wait'}]},
            {'thread_id': 10, 'frame_info': [{'filename': '<string>', 'lineno': 1, 'funcname': '<module>'}]}],
            'main': [{'thread_id': 10, 'frame_info': []}]}
        stacks = stack_reader.normalise_stacks(raw, 10)
        self.assertEqual(stacks[0], {'threadId': 10, 'isMain': True,
                                     'frames': [{'function': '<module>', 'file': '<string>', 'line': 1}]})
        self.assertEqual(stacks[1]['frames'][0], {'function': 'Event.wait', 'file': '/t.py', 'line': 3})
        self.assertFalse(stacks[1]['isMain'])

    def test_documented_tuple_shape_and_interpreter_grouping(self):
        raw = {'threads': [{'interpreter_id': 0, 'threads': [
            [7, [['handle', 'server.py', 89], ['/app/main.py', 5, 'main']]]]}], 'main': None}
        stacks = stack_reader.normalise_stacks(raw, 7)
        self.assertTrue(stacks[0]['isMain'])
        self.assertEqual(stacks[0]['frames'], [{'function': 'handle', 'file': 'server.py', 'line': 89},
                                               {'function': 'main', 'file': '/app/main.py', 'line': 5}])

    def test_location_instead_of_lineno(self):
        frame = stack_reader._frame_from_plain({'filename': 'a.py', 'location': [12, 12, 0, 4], 'funcname': 'f'})
        self.assertEqual(frame['line'], 12)


if __name__ == '__main__':
    unittest.main()
