"""The payload's debugpy.listen() wrapper: "listening" is reported once the adapter listens for
clients, before pydevd connects to it. Against a stand-in debugpy whose listen() calls _settrace()
when the adapter's endpoints arrived, as debugpy's does. Run: python3 -m unittest discover -s test/unit/agent
"""

import sys
import types
import unittest

from wandtest import load_agent

agent = load_agent()


def payload_functions():
    namespace = {'__name__': 'wand_payload_test'}
    # the template ends by running itself with a placeholder config: that fails quietly
    exec(compile(agent.PAYLOAD_TEMPLATE, 'payload', 'exec'), namespace)
    return namespace


class FakeDebugpy(object):
    """debugpy, debugpy.server and debugpy.server.api in sys.modules for one test."""

    def __init__(self, with_settrace=True):
        self.events = []
        self.api = types.ModuleType('debugpy.server.api')
        if with_settrace:
            self.api._settrace = lambda *a, **k: self.events.append('settrace')
        self.server = types.ModuleType('debugpy.server')
        self.server.api = self.api
        self.debugpy = types.ModuleType('debugpy')
        self.debugpy.server = self.server
        self.debugpy.listen = self.listen
        self.saved = {}

    def listen(self, address):
        self.events.append('adapter up')
        settrace = getattr(self.api, '_settrace', None)
        if settrace is not None:
            settrace(host='127.0.0.1', port=1234)
        self.events.append('listen returns')
        return address

    def __enter__(self):
        for name, module in (('debugpy', self.debugpy), ('debugpy.server', self.server),
                             ('debugpy.server.api', self.api)):
            self.saved[name] = sys.modules.get(name)
            sys.modules[name] = module
        return self

    def __exit__(self, *exc):
        for name, module in self.saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class ListenTest(unittest.TestCase):
    def setUp(self):
        self.listen = payload_functions()['_wand_listen']

    def test_reports_when_the_adapter_is_up_before_pydevd_connects(self):
        with FakeDebugpy() as fake:
            original = fake.api._settrace
            address = self.listen(fake.debugpy, 5679, lambda: fake.events.append('reported'))
        self.assertEqual(address, ('127.0.0.1', 5679))
        self.assertEqual(fake.events, ['adapter up', 'reported', 'settrace', 'listen returns'])
        self.assertIs(fake.api._settrace, original)

    def test_without_settrace_reports_when_listen_returns(self):
        with FakeDebugpy(with_settrace=False) as fake:
            self.listen(fake.debugpy, 5679, lambda: fake.events.append('reported'))
        self.assertEqual(fake.events, ['adapter up', 'listen returns', 'reported'])
        self.assertFalse(hasattr(fake.api, '_settrace'))

    def test_restores_settrace_when_listen_fails(self):
        with FakeDebugpy() as fake:
            original = fake.api._settrace

            def failing(address):
                raise RuntimeError("can't listen for adapter endpoints")

            fake.debugpy.listen = failing
            with self.assertRaises(RuntimeError):
                self.listen(fake.debugpy, 5679, lambda: fake.events.append('reported'))
        self.assertEqual(fake.events, [])
        self.assertIs(fake.api._settrace, original)


if __name__ == '__main__':
    unittest.main()
