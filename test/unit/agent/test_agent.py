"""Tests of the agent that need no Python 3.14: /proc parsing against this machine's real /proc,
the request/response framing, and the pure helpers. Run: python3 -m unittest discover -s test/unit/agent -v
"""

import ast
import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest

from wandtest import CONTRACT_PATH, AGENT_PATH, free_port, load_agent, run_agent, wait_for

agent = load_agent()
HOST_VERSION = '%d.%d.%d' % sys.version_info[:3]


def spawn_python(code, options=(), env=None, argv_tail=()):
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen([sys.executable] + list(options) + ['-c', code] + list(argv_tail),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=full_env)
    return proc


def wait_ready(proc):
    line = proc.stdout.readline()
    if not line.startswith(b'ready'):
        raise AssertionError('child did not start: %r' % line)


def stop(*procs):
    for proc in procs:
        if proc is None:
            continue
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()


READY_AND_SLEEP = 'import sys, time; print("ready", flush=True); time.sleep(60)'


class ContractTest(unittest.TestCase):
    def contract(self):
        with open(CONTRACT_PATH) as f:
            return f.read()

    def test_reported_env_matches_contract(self):
        block = re.search(r'REPORTED_ENV = \[(.*?)\]', self.contract(), re.S).group(1)
        self.assertEqual(tuple(re.findall(r"'([A-Z_]+)'", block)), agent.REPORTED_ENV)

    def test_error_codes_match_contract(self):
        block = re.search(r'type AgentErrorCode =(.*?);', self.contract(), re.S).group(1)
        self.assertEqual(set(re.findall(r"'([a-z-]+)'", block)), set(agent.ERROR_CODES))

    def test_agent_is_python38_syntax(self):
        with open(AGENT_PATH) as f:
            source = f.read()
        ast.parse(source, feature_version=(3, 8))
        ast.parse(agent.render_payload({'mode': 'exec'}), feature_version=(3, 8))


class PythonOptionsTest(unittest.TestCase):
    def test_x_options_and_flags(self):
        flags, xs = agent.parse_python_options(
            ['python3', '-X', 'dev', '-Ximporttime', '-BE', '-W', 'ignore', '-c', 'x', '-X', 'not-ours'])
        self.assertEqual(xs, ['dev', 'importtime'])
        self.assertEqual(flags, {'B', 'E'})

    def test_options_stop_at_script_and_module(self):
        self.assertEqual(agent.parse_python_options(['python', 'app.py', '-X', 'dev'])[1], [])
        self.assertEqual(agent.parse_python_options(['python', '-muvicorn', '-X', 'dev'])[1], [])
        self.assertEqual(agent.parse_python_options(['python', '-I', '-Xfrozen_modules=off', '-m', 'x'])[1],
                         ['frozen_modules=off'])

    def test_glued_option_after_flags(self):
        flags, xs = agent.parse_python_options(['python3', '-sBXdisable-remote-debug', '-c', ''])
        self.assertEqual(xs, ['disable-remote-debug'])
        self.assertEqual(flags, {'s', 'B'})

    def test_long_option_with_value(self):
        flags, xs = agent.parse_python_options(
            ['python3', '--check-hash-based-pycs', 'never', '-X', 'dev', 'app.py'])
        self.assertEqual(xs, ['dev'])

    def test_remote_debug_disabled_reasons(self):
        reason = agent.remote_debug_disabled_reason
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
            self.assertTrue(agent.is_python_executable(name), name)
        for name in ('/usr/bin/python3-config', '/usr/bin/pythonista', '/bin/sh', None, ''):
            self.assertFalse(agent.is_python_executable(name), name)

    def test_too_old(self):
        self.assertEqual(agent.too_old_reason('3.13.15'), 'Python 3.13.15: sys.remote_exec needs 3.14+')
        self.assertIsNone(agent.too_old_reason('3.14.0'))
        self.assertIsNone(agent.too_old_reason('3.15.1'))


class PermissionTest(unittest.TestCase):
    def caps(self, **overrides):
        caps = {'uid': 1000, 'gid': 1000, 'sysPtrace': False, 'permitted': 0, 'yamaPtraceScope': None}
        caps.update(overrides)
        return caps

    def status(self, uid=1000, gid=1000, cap_prm='0000000000000000'):
        return {'Uid': '%d\t%d\t%d\t%d' % ((uid,) * 4), 'Gid': '%d\t%d\t%d\t%d' % ((gid,) * 4), 'CapPrm': cap_prm}

    def test_same_user_is_allowed(self):
        self.assertIsNone(agent.ptrace_denial(self.status(), True, self.caps()))

    def test_other_user_needs_cap_sys_ptrace(self):
        reason = agent.ptrace_denial(self.status(uid=0), True, self.caps())
        self.assertIn('uid 0', reason)
        self.assertIn('CAP_SYS_PTRACE', reason)
        self.assertIsNone(agent.ptrace_denial(self.status(uid=0), True, self.caps(sysPtrace=True)))

    def test_yama(self):
        self.assertIn('ptrace_scope=1', agent.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=1)))
        self.assertIn('ptrace_scope=2', agent.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=2)))
        self.assertIsNone(agent.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=2, sysPtrace=True)))
        self.assertIn('ptrace_scope=3',
                      agent.ptrace_denial(self.status(), True, self.caps(yamaPtraceScope=3, sysPtrace=True)))

    def test_more_capabilities_or_unreadable_environ(self):
        self.assertIn('capabilities', agent.ptrace_denial(self.status(cap_prm='00000000a80425fb'), True, self.caps()))
        self.assertIn('not readable', agent.ptrace_denial(self.status(), False, self.caps()))

    def test_agent_capabilities_read_from_proc(self):
        caps = agent.agent_capabilities()
        self.assertEqual(caps['uid'], os.getuid())
        with open('/proc/self/status') as f:
            cap_eff = int(re.search(r'CapEff:\s*([0-9a-f]+)', f.read()).group(1), 16)
        self.assertEqual(caps['sysPtrace'], bool(cap_eff & (1 << 19)))


class ProcReadingTest(unittest.TestCase):
    def test_stat_with_awkward_command_name(self):
        text = '42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 11 22 0 0 20 0 1 0 12345 1 2 3'
        stat = agent.parse_stat(text)
        self.assertEqual((stat['state'], stat['ppid'], stat['ticks'], stat['starttime']), ('S', 7, 33, 12345))

    def test_environ_reporting_keeps_only_allowlisted_names(self):
        env = agent.parse_environ(b'SECRET=hunter2\0RUN_MAIN=true\0A=b=c\0SERVER_SOFTWARE=gunicorn/23\0')
        self.assertEqual(env['A'], 'b=c')
        self.assertEqual(agent.reported_env(env), {'RUN_MAIN': 'true', 'SERVER_SOFTWARE': 'gunicorn/23'})
        self.assertIsNone(agent.reported_env(None))

    def test_real_child_process(self):
        child = spawn_python(READY_AND_SLEEP, options=['-X', 'dev', '-X', 'utf8'],
                             env={'WERKZEUG_RUN_MAIN': 'true', 'WAND_TEST_SECRET': 'hunter2'},
                             argv_tail=['--flag', 'with space'])
        try:
            wait_ready(child)
            facts = agent.ProcessFacts(child.pid, agent.read_stat(child.pid))
            self.assertEqual(facts.stat['ppid'], os.getpid())
            self.assertEqual(facts.argv, [sys.executable, '-X', 'dev', '-X', 'utf8', '-c', READY_AND_SLEEP,
                                          '--flag', 'with space'])
            self.assertEqual(facts.xoptions, ['dev', 'utf8'])
            self.assertTrue(facts.is_python)
            self.assertEqual(os.path.realpath(facts.exe), os.path.realpath(sys.executable))
            self.assertEqual(facts.cwd, os.getcwd())
            self.assertEqual(agent.reported_env(facts.environ)['WERKZEUG_RUN_MAIN'], 'true')
            self.assertNotIn('WAND_TEST_SECRET', agent.reported_env(facts.environ))
            self.assertEqual(agent.probe_python('/proc/%d/exe' % child.pid)[0], HOST_VERSION)
        finally:
            stop(child)

    def test_passwd(self):
        self.assertEqual(agent.read_passwd().get(0), 'root')


class ProcNetTcpTest(unittest.TestCase):
    def test_listening_and_connected_sockets(self):
        server = socket.socket()
        server.bind(('127.0.0.1', 0))
        server.listen(1)
        port = server.getsockname()[1]
        client = socket.create_connection(('127.0.0.1', port))
        accepted, _ = server.accept()
        try:
            entries = agent.read_tcp_sockets()
            mine = agent.socket_inodes(os.getpid())
            listen = [e for e in entries if e['local'] == ('127.0.0.1', port) and e['state'] == agent.TCP_LISTEN]
            self.assertEqual(len(listen), 1)
            self.assertIn(listen[0]['inode'], mine)
            client_port = client.getsockname()[1]
            established = [e for e in entries if e['local'] == ('127.0.0.1', client_port)]
            self.assertEqual(established[0]['remote'], ('127.0.0.1', port))
            self.assertEqual(established[0]['state'], agent.TCP_ESTABLISHED)
            self.assertEqual(established[0]['uid'], os.getuid())
        finally:
            for s in (client, accepted, server):
                s.close()

    def test_ipv6_address_decoding(self):
        text = ('  sl  local_address                         remote_address                        st tx_queue '
                'rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
                '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A '
                '00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n')
        [entry] = agent.parse_proc_net_tcp(text)
        self.assertEqual(entry['local'], ('::1', 8080))
        self.assertEqual((entry['state'], entry['uid'], entry['inode']), (10, 1000, 4242))


# A stand-in for debugpy's adapter: same command line shape, listens for clients on --port and for
# the debugged process on a second port, which it prints.
FAKE_ADAPTER = '''
import socket, sys, time
port = int(sys.argv[sys.argv.index("--port") + 1])
client = socket.socket(); client.bind(("127.0.0.1", port)); client.listen(1)
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
print("ready", server.getsockname()[1], flush=True)
conn, _ = server.accept()
time.sleep(60)
'''
FAKE_DEBUGGEE = '''
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
time.sleep(60)
'''


class DebugpyDetectionTest(unittest.TestCase):
    def test_adapter_is_linked_to_the_process_it_serves(self):
        client_port = free_port()
        adapter = subprocess.Popen(
            [sys.executable, '-c', FAKE_ADAPTER, '/x/debugpy/adapter', '--for-server', '1234', '--host',
             '127.0.0.1', '--port', str(client_port), '--server-access-token', 'sekrit'],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        debuggee = None
        try:
            line = adapter.stdout.readline().split()
            debuggee = spawn_python(FAKE_DEBUGGEE, argv_tail=[line[1].decode()])
            wait_ready(debuggee)
            argv = dict((p, agent.read_cmdline(p)) for p in (adapter.pid, debuggee.pid, os.getpid()))
            self.assertEqual(agent.find_debugpy_ports(argv), {debuggee.pid: client_port})
            run = run_agent({'op': 'list', 'sampleSeconds': 0.05})
            records = dict((p['pid'], p) for p in run.result['processes'])
            self.assertEqual(records[debuggee.pid]['debugpyPort'], client_port)
            self.assertIsNone(records[adapter.pid]['debugpyPort'])
            self.assertNotIn('sekrit', run.stdout)
            self.assertIn('***', records[adapter.pid]['argv'])
        finally:
            stop(adapter, debuggee)


class BlockedInTest(unittest.TestCase):
    def test_names_from_syscall_and_wchan(self):
        describe = agent.describe_blocking
        self.assertEqual(describe('230 0x1 0x1', 'hrtimer_nanosleep', 'x86_64'), 'time.sleep()')
        self.assertEqual(describe('270 0x0', '', 'x86_64'), 'select()')
        self.assertEqual(describe('202 0x0', '', 'x86_64'), 'a lock or Event.wait()')
        self.assertEqual(describe('22 0x0', '', 'aarch64'), 'epoll_wait()')
        self.assertEqual(describe(None, 'do_epoll_wait', 'riscv64'), 'epoll_wait()')
        self.assertEqual(describe(None, 'inet_csk_accept', 'x86_64'), 'accept()')
        self.assertIsNone(describe('running', 'hrtimer_nanosleep', 'x86_64'))
        self.assertIsNone(describe(None, '0', 'x86_64'))

    def test_real_processes(self):
        cases = [
            ('import time; print("ready", flush=True); time.sleep(60)', 'time.sleep()'),
            ('import threading; print("ready", flush=True); threading.Event().wait()', 'a lock or Event.wait()'),
            ('import select; print("ready", flush=True); select.select([], [], [], 60)', 'select()'),
            ('import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); '
             'print("ready", flush=True); s.accept()', 'accept()'),
        ]
        for code, expected in cases:
            child = spawn_python(code)
            try:
                wait_ready(child)
                wait_for(lambda: agent.blocked_in(child.pid) == expected, timeout=5, what=expected)
            finally:
                stop(child)


class StackNormalisationTest(unittest.TestCase):
    def test_thread_info_objects_as_dicts(self):
        raw = {'threads': [
            {'thread_id': 11, 'frame_info': [{'filename': '/t.py', 'lineno': 3, 'funcname': 'Event.wait'}]},
            {'thread_id': 10, 'frame_info': [{'filename': '<string>', 'lineno': 1, 'funcname': '<module>'}]}],
            'main': [{'thread_id': 10, 'frame_info': []}]}
        stacks = agent.normalise_stacks(raw, 10)
        self.assertEqual(stacks[0], {'threadId': 10, 'isMain': True,
                                     'frames': [{'function': '<module>', 'file': '<string>', 'line': 1}]})
        self.assertEqual(stacks[1]['frames'][0], {'function': 'Event.wait', 'file': '/t.py', 'line': 3})
        self.assertFalse(stacks[1]['isMain'])

    def test_documented_tuple_shape_and_interpreter_grouping(self):
        raw = {'threads': [{'interpreter_id': 0, 'threads': [
            [7, [['handle', 'server.py', 89], ['/app/main.py', 5, 'main']]]]}], 'main': None}
        stacks = agent.normalise_stacks(raw, 7)
        self.assertTrue(stacks[0]['isMain'])
        self.assertEqual(stacks[0]['frames'], [{'function': 'handle', 'file': 'server.py', 'line': 89},
                                               {'function': 'main', 'file': '/app/main.py', 'line': 5}])

    def test_location_instead_of_lineno(self):
        frame = agent._frame_from_plain({'filename': 'a.py', 'location': [12, 12, 0, 4], 'funcname': 'f'})
        self.assertEqual(frame['line'], 12)


class PayloadTest(unittest.TestCase):
    def test_config_is_embedded_as_base64_only(self):
        config = {'mode': 'exec', 'code': "print('\\'''\"\"\"')\n__WAND_CONFIG__", 'status': '/tmp/x/status'}
        source = agent.render_payload(config)
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
            f.write(agent.render_payload(config))
        subprocess.run([sys.executable, payload], check=True)
        self.assertFalse(os.path.exists(workdir))


def agent_source():
    with open(AGENT_PATH, 'rb') as f:
        return f.read()


class FramingTest(unittest.TestCase):
    """Run agent.py exactly as the CLI does: `python3 -` with the file and a main(...) line."""

    def test_list_round_trip(self):
        child = spawn_python(READY_AND_SLEEP, options=['-X', 'disable-remote-debug'],
                             env={'PYTHON_DISABLE_REMOTE_DEBUG': '1', 'RUN_MAIN': 'true', 'WAND_TEST_SECRET': 's3'})
        busy = spawn_python('print("ready", flush=True)\nwhile True: pass')
        try:
            wait_ready(child)
            wait_ready(busy)
            run = run_agent({'op': 'list', 'sampleSeconds': 0.5})
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(len(run.events), 1)
            result = run.result
            self.assertEqual(result['agentPython'], HOST_VERSION)
            self.assertEqual(result['capabilities']['uid'], os.getuid())
            records = dict((p['pid'], p) for p in result['processes'])
            record = records[child.pid]
            self.assertEqual(record['ppid'], os.getpid())
            self.assertEqual(record['uid'], os.getuid())
            self.assertEqual(record['python'], HOST_VERSION)
            self.assertEqual(record['env'], {'RUN_MAIN': 'true', 'PYTHON_DISABLE_REMOTE_DEBUG': '1'})
            self.assertEqual(record['xOptions'], ['disable-remote-debug'])
            self.assertFalse(record['debuggable'])
            if sys.version_info < (3, 14):
                self.assertEqual(record['reason'], 'Python %s: sys.remote_exec needs 3.14+' % HOST_VERSION)
            self.assertGreater(record['rssBytes'], 1 << 20)
            self.assertLess(record['uptimeSeconds'], 60)
            # a shared machine may starve the busy loop: compare rather than expect ~100%
            self.assertLess(record['cpuPercent'], 5)
            self.assertGreater(records[busy.pid]['cpuPercent'], 10)
            self.assertNotIn('s3', json.dumps(record['env']))
            self.assertNotIn('WAND_TEST_SECRET', run.stdout)
            # the agent and its version probes are not listed
            self.assertFalse([p for p in result['processes'] if p['argv'] == [sys.executable, '-']])
            self.assertFalse([p for p in result['processes'] if agent.PROBE_SOURCE in p['argv']])
            self.assertLess(run.seconds, 0.5 + 1.5)
        finally:
            stop(child, busy)

    def test_malformed_request(self):
        proc = subprocess.run([sys.executable, '-'], input=agent_source() + b'\nmain("%%%")\n',
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(events[-1]['event'], 'error')
        self.assertEqual(events[-1]['code'], 'internal')

    def test_unknown_operation(self):
        run = run_agent({'op': 'explode'})
        self.assertEqual((run.returncode, run.last['event'], run.last['code']), (1, 'error', 'internal'))

    def test_error_codes_for_unusable_targets(self):
        self.assertEqual(run_agent({'op': 'inject', 'pid': 999999999, 'port': 5678, 'waitForClient': False,
                                    'timeoutSeconds': 1}).last['code'], 'no-such-process')
        sleeper = subprocess.Popen(['sleep', '60'])
        old = spawn_python(READY_AND_SLEEP)
        try:
            wait_ready(old)
            run = run_agent({'op': 'exec', 'pid': sleeper.pid, 'code': 'x', 'timeoutSeconds': 1})
            self.assertEqual(run.last['code'], 'not-python')
            if sys.version_info < (3, 14):
                run = run_agent({'op': 'stack', 'pid': old.pid})
                self.assertEqual(run.last['code'], 'python-too-old')
                self.assertIn('needs 3.14+', run.last['message'])
        finally:
            stop(sleeper, old)

    def test_bad_request_fields(self):
        run = run_agent({'op': 'inject', 'pid': 'one', 'port': 5678, 'waitForClient': False, 'timeoutSeconds': 1})
        self.assertEqual(run.last['code'], 'internal')
        self.assertIn('pid', run.last['message'])


if __name__ == '__main__':
    unittest.main()
