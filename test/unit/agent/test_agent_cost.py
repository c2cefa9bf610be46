"""What the assembled agent costs in the pod: imports at start, interpreters it spawns, how soon code runs.

Run: python3 -m unittest discover -s test/unit/agent -v (the container tests need WAND_TEST_ROOT, see
wandtest).
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

from wandtest import TEST_ROOT, Container, agent_source, requires_container

LOOP = 'import time\nprint("ready", flush=True)\nwhile True:\n    time.sleep(0.05)\n'
#: imported only by the operations that need them (see the comment at the agent's imports)
#: a server idle in select() on its listening socket for 30 s at a time; logs what each client sent
IDLE_SERVER = '''
import selectors, socket
server = socket.socket()
server.bind(('0.0.0.0', 0))
server.listen()
selector = selectors.DefaultSelector()
selector.register(server, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in selector.select(timeout=30):
        conn, _ = server.accept()
        print("received %r" % conn.recv(100), flush=True)
        conn.close()
'''
#: a `base64` module that takes 1.5 s to import: the payload, which imports base64 itself, lands
#: while it is half-initialised (as in a worker still starting)
SLOW_BASE64 = '''
import time
print("importing", flush=True)
end = time.monotonic() + 1.5
while time.monotonic() < end:
    pass
from binascii import a2b_base64 as _a2b_base64


def b64decode(data):
    return _a2b_base64(data)
'''
SLOW_IMPORT_APP = '''
import sys
sys.path.insert(0, "/tmp/slowapp")
import base64
import time
while True:
    time.sleep(0.05)
'''
#: a sitecustomize that keeps the interpreter 1.5 s in its start, before it has a main thread to run code
SLOW_SITECUSTOMIZE = '''
import time
print("starting", flush=True)
end = time.monotonic() + 1.5
while time.monotonic() < end:
    pass
'''
LAZY_MODULES = ('subprocess', 'socket', 'tempfile', 'threading', 'traceback', 'contextlib', 'shutil', 'ctypes')


def modules_after(source):
    """The modules loaded after running `source` in a fresh `python3 -I -`."""
    code = source + '\nimport json as _j, sys as _s\n_s.stdout.write(_j.dumps(sorted(_s.modules)))\n'
    out = subprocess.run([sys.executable, '-I', '-'], input=code.encode(), stdout=subprocess.PIPE,
                         check=True).stdout
    return set(json.loads(out.decode()))


class StartCostTest(unittest.TestCase):
    def test_module_top_imports_none_of_the_lazy_modules(self):
        source = agent_source().decode()
        loaded = modules_after(source) - modules_after('')
        self.assertEqual(sorted(loaded.intersection(LAZY_MODULES)), [])


@requires_container
class OwnInterpreterContainerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.logs = tempfile.mkdtemp(prefix='wand-test-logs-')
        cls.c = Container(TEST_ROOT, cls.logs)

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()
        import shutil
        shutil.rmtree(cls.logs, ignore_errors=True)

    def target(self, **kwargs):
        proc = self.c.python(LOOP, ready='ready', **kwargs)
        self.addCleanup(proc.stop)
        return proc

    def test_an_agent_that_opted_out_of_remote_debugging_still_asks_the_build(self):
        """The agent's own sys.is_remote_debug_enabled() is False here: the probe must decide."""
        new, old = self.target(), self.target(interpreter='python3.13')
        from wandtest import run_agent
        command = self.c.enter_command() + ['env', 'PYTHON_DISABLE_REMOTE_DEBUG=1', 'python3', '-']
        result = run_agent({'op': 'list', 'sampleSeconds': 0}, command=command).result
        records = dict((p['pid'], p) for p in result['processes'])
        self.assertEqual(records[new.pid]['python'], result['agentPython'])
        self.assertTrue(records[new.pid]['debuggable'], records[new.pid])
        self.assertTrue(records[old.pid]['python'].startswith('3.13.'))

    def agent_counting_children(self, request):
        """(last event, the largest child's peak memory: 0 when no child process ever ran)."""
        source = agent_source().decode()
        code = (source + '\nimport atexit, resource\natexit.register(lambda: sys.stderr.write('
                '"CHILDREN %d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n'
                'main("REQUEST")\n')
        encoded = base64.b64encode(json.dumps(request).encode()).decode()
        run = subprocess.run(self.c.enter_command() + ['python3', '-'], input=code.replace('REQUEST', encoded).encode(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        children = [int(line.split()[1]) for line in run.stderr.decode().splitlines() if line.startswith('CHILDREN ')]
        return json.loads(run.stdout.decode().splitlines()[-1]), children[-1]

    def test_list_of_own_interpreter_processes_starts_no_interpreter(self):
        new = self.target()
        last, children = self.agent_counting_children({'op': 'list', 'sampleSeconds': 0})
        records = dict((p['pid'], p) for p in last['result']['processes'])
        self.assertTrue(records[new.pid]['debuggable'])
        self.assertEqual(children, 0)

    def test_exec_into_own_interpreter_process_starts_no_interpreter(self):
        new = self.target()
        last, children = self.agent_counting_children({'op': 'exec', 'pid': new.pid, 'code': 'print(6 * 7)',
                                                       'timeoutSeconds': 10})
        self.assertEqual(last['result']['stdout'], '42\n')
        self.assertEqual(children, 0)

    def test_an_idle_server_runs_the_injected_code_at_once(self):
        server = self.c.python(IDLE_SERVER, ready='ready')
        self.addCleanup(server.stop)
        run = self.c.agent({'op': 'exec', 'pid': server.pid, 'code': 'print(6 * 7)', 'timeoutSeconds': 10})
        self.assertEqual(run.result['stdout'], '42\n')
        self.assertLess(run.seconds, 5.0)  # else it waited for select()'s 30 s timeout: a timeout error
        # one connection, no bytes sent
        self.assertEqual(server.log().count('received'), 1, server.log())
        self.assertIn("received b''", server.log())

    def test_code_injected_during_an_import_runs_after_it_on_the_main_thread(self):
        os.makedirs(self.c.host_path('/tmp/slowapp'), exist_ok=True)
        with open(self.c.host_path('/tmp/slowapp/base64.py'), 'w') as f:
            f.write(SLOW_BASE64)
        app = self.c.python(SLOW_IMPORT_APP, ready='importing')
        self.addCleanup(app.stop)
        code = 'import threading\nprint(threading.current_thread() is threading.main_thread())'
        run = self.c.agent({'op': 'exec', 'pid': app.pid, 'code': code, 'timeoutSeconds': 10})
        self.assertEqual(run.result['stdout'], 'True\n')

    def test_code_injected_while_the_interpreter_starts_runs_once_it_runs(self):
        os.makedirs(self.c.host_path('/tmp/slowsite'), exist_ok=True)
        with open(self.c.host_path('/tmp/slowsite/sitecustomize.py'), 'w') as f:
            f.write(SLOW_SITECUSTOMIZE)
        app = self.c.python(LOOP, env={'PYTHONPATH': '/tmp/slowsite'}, ready='starting')
        self.addCleanup(app.stop)
        run = self.c.agent({'op': 'exec', 'pid': app.pid, 'code': 'print(6 * 7)', 'timeoutSeconds': 10})
        self.assertEqual(run.result['stdout'], '42\n')

    def test_in_process_injector_errors_read_as_the_spawned_injector_ones(self):
        disabled = self.target(env={'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
        source = agent_source().decode()
        # pid 1 is `sleep` (not Python), 99999 does not exist
        script = source + r"""
import json
answers = []
for pid in (PID, 1, 99999):
    facts = ProcessFacts(PID, read_stat(PID))
    target = Target(pid, facts, python_version())
    target.exe_path = '/proc/PID/exe'  # the spawned injector needs a Python
    paths = []
    for in_process in (True, False):
        globals()['can_inject_in_process'] = lambda target, value=in_process: value
        try:
            run_injector(target, '/dev/null')
            paths.append(None)
        except AgentError as exc:
            paths.append([exc.code, exc.message])
    answers.append(paths)
print(json.dumps(answers))
""".replace('PID', str(disabled.pid))
        run = subprocess.run(self.c.enter_command() + ['python3', '-'], input=script.encode(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        answers = json.loads(run.stdout.decode())
        self.assertEqual([a[0][0] for a in answers], ['remote-debug-disabled', 'internal', 'no-such-process'])
        for in_process, spawned in answers:
            self.assertEqual(in_process, spawned)


if __name__ == '__main__':
    unittest.main()
