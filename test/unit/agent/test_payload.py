"""The injected script (wand_agent/payload.py): how its config is embedded, what it does without\nan agent, and its debugpy.listen() wrapper, against a stand-in debugpy whose listen() calls _settrace()\nwhen the adapter's endpoints arrived, as debugpy's does."""

import base64
import json
import os
import re
import subprocess
import sys
import types
import unittest

from wand_agent import payload as payload_script


class PayloadTest(unittest.TestCase):
    def test_config_is_embedded_as_base64_only(self):
        config = {'mode': 'exec', 'code': "print('\\'''\"\"\"')\n__WAND_CONFIG__", 'status': '/tmp/x/status'}
        source = payload_script.render_payload(config)
        literal = re.search(r"_wand_run\('([A-Za-z0-9+/=]+)'\)", source).group(1)
        self.assertEqual(json.loads(base64.b64decode(literal)), config)
        compile(source, 'payload', 'exec')

    def test_payload_without_agent_does_nothing_and_forgets_its_files(self):
        import tempfile
        workdir = tempfile.mkdtemp(prefix='wand-test-')
        payload = os.path.join(workdir, 'payload')
        marker = os.path.join(workdir, 'ran')
        config = {'mode': 'exec', 'code': 'open(%r, "w").close()' % marker,
                  'status': os.path.join(workdir, 'status'), 'payload': payload, 'dir': workdir}
        with open(payload, 'w') as f:
            f.write(payload_script.render_payload(config))
        subprocess.run([sys.executable, payload], check=True)
        self.assertFalse(os.path.exists(workdir))

    def test_payload_removes_its_files_once_the_agent_said_go(self):
        """An agent killed after `go` (a pod's exec torn down) leaves no private directory behind."""
        import socket
        import tempfile
        workdir = tempfile.mkdtemp(prefix='wand-test-')
        payload = os.path.join(workdir, 'payload')
        status = os.path.join(workdir, 'status')
        config = {'mode': 'exec', 'code': '6 * 7', 'maxOutputChars': 1000, 'status': status, 'payload': payload,
                  'dir': workdir}
        with open(payload, 'w') as f:
            f.write(payload_script.render_payload(config))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(status)
        listener.listen(1)
        proc = subprocess.Popen([sys.executable, payload])
        try:
            listener.settimeout(30)
            conn, _ = listener.accept()
            listener.close()
            os.unlink(status)  # as the agent's StatusChannel does on accept
            stream = conn.makefile('rb')
            self.assertEqual(json.loads(stream.readline())['status'], 'started')
            conn.sendall(b'go\n')
            self.assertEqual(json.loads(stream.readline())['status'], 'exec-done')
            self.assertFalse(os.path.exists(workdir))
            conn.close()
        finally:
            proc.wait(30)


def payload_functions():
    namespace = {'__name__': 'wand_payload_test'}
    # the template ends by running itself with a placeholder config: that fails quietly
    exec(compile(payload_script.PAYLOAD_TEMPLATE, 'payload', 'exec'), namespace)
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
