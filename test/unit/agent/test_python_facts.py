"""Interpreter names, command-line options, versions, remote debugging switched off (wand_agent/python_facts.py)."""

import unittest

from wand_agent import contract, python_facts


class PythonOptionsTest(unittest.TestCase):
    def test_x_options_and_flags(self):
        flags, xs = python_facts.parse_python_options(
            ['python3', '-X', 'dev', '-Ximporttime', '-BE', '-W', 'ignore', '-c', 'x', '-X', 'not-ours'])
        self.assertEqual(xs, ['dev', 'importtime'])
        self.assertEqual(flags, {'B', 'E'})

    def test_options_stop_at_script_and_module(self):
        self.assertEqual(python_facts.parse_python_options(['python', 'app.py', '-X', 'dev'])[1], [])
        self.assertEqual(python_facts.parse_python_options(['python', '-muvicorn', '-X', 'dev'])[1], [])
        self.assertEqual(python_facts.parse_python_options(['python', '-I', '-Xfrozen_modules=off', '-m', 'x'])[1],
                         ['frozen_modules=off'])

    def test_glued_option_after_flags(self):
        flags, xs = python_facts.parse_python_options(['python3', '-sBXdisable-remote-debug', '-c', ''])
        self.assertEqual(xs, ['disable-remote-debug'])
        self.assertEqual(flags, {'s', 'B'})

    def test_long_option_with_value(self):
        flags, xs = python_facts.parse_python_options(
            ['python3', '--check-hash-based-pycs', 'never', '-X', 'dev', 'app.py'])
        self.assertEqual(xs, ['dev'])

    def test_remote_debug_disabled_reasons(self):
        reason = python_facts.remote_debug_disabled_reason
        self.assertIn('-X disable-remote-debug', reason({}, set(), ['disable-remote-debug']))
        # the underscore spelling is ignored by CPython
        self.assertIsNone(reason({}, set(), ['disable_remote_debug']))
        # any value disables, even empty; -E / -I make the interpreter ignore the variable
        self.assertIn('PYTHON_DISABLE_REMOTE_DEBUG', reason({'PYTHON_DISABLE_REMOTE_DEBUG': ''}, set(), []))
        self.assertIsNone(reason({'PYTHON_DISABLE_REMOTE_DEBUG': '1'}, {'E'}, []))
        self.assertIsNone(reason({'PYTHON_DISABLE_REMOTE_DEBUG': '1'}, {'I'}, []))
        self.assertIsNone(reason(None, set(), []))

    def test_python_executable_names(self):
        for name in ('/usr/bin/python', '/usr/bin/python3', '/usr/local/bin/python3.14',
                     '/usr/bin/python3.14t', '/usr/bin/python3.13 (deleted)'):
            self.assertTrue(python_facts.is_python_executable(name), name)
        for name in ('/usr/bin/python3-config', '/usr/bin/pythonista', '/bin/sh', None, ''):
            self.assertFalse(python_facts.is_python_executable(name), name)

    def test_too_old(self):
        self.assertIn('Python 3.8.18: kubectl-wand needs 3.9+', python_facts.too_old_reason('3.8.18'))
        for version in ('3.9.0', '3.13.15', '3.14.0', '3.15.1'):
            self.assertIsNone(python_facts.too_old_reason(version), version)

    def test_injector_by_version(self):
        self.assertEqual([python_facts.injector_for(v) for v in ('3.8.18', '3.9.0', '3.13.15', '3.14.0', '3.15.1', None)],
                         [None, 'ptrace', 'ptrace', 'remote_exec', 'remote_exec', None])

    def test_ptrace_refusals(self):
        self.assertEqual(python_facts.ptrace_refusal({}, [], machine='aarch64')[0], 'unsupported-arch')
        self.assertIsNone(python_facts.ptrace_refusal({}, [], machine='x86_64'))
        # the opt-out counts whatever the interpreter's flags: before 3.14 nothing else checks it
        self.assertEqual(python_facts.ptrace_refusal({'PYTHON_DISABLE_REMOTE_DEBUG': ''}, [], machine='x86_64'),
                         ('remote-debug-disabled', 'PYTHON_DISABLE_REMOTE_DEBUG is set in its environment'))
        self.assertEqual(python_facts.ptrace_refusal({}, ['disable-remote-debug'], machine='x86_64')[0],
                         'remote-debug-disabled')


class RemoteDebugOffCodeTest(unittest.TestCase):
    def test_each_way_off_has_its_code(self):
        self.assertEqual(python_facts.remote_debug_disabled({}, set(), ['disable-remote-debug'])[0], 'x-option')
        self.assertEqual(python_facts.remote_debug_disabled({'PYTHON_DISABLE_REMOTE_DEBUG': '1'}, set(), [])[0], 'env')
        self.assertIsNone(python_facts.remote_debug_disabled({}, set(), []))
        for code in ('x-option', 'env'):
            self.assertIn(code, contract.REMOTE_DEBUG_OFF_CODES)

    def test_version_tuple(self):
        self.assertEqual(python_facts.version_tuple('3.14.0'), (3, 14, 0))
        self.assertIsNone(python_facts.version_tuple(None))
        self.assertIsNone(python_facts.version_tuple('3.x'))


if __name__ == '__main__':
    unittest.main()
