"""/proc/net/tcp, waking a target, debugpy listeners (wand_agent/sockets.py)."""

import os
import socket
import subprocess
import sys
import unittest

from wandtest import free_port, run_agent, spawn_python, stop, wait_ready
from wand_agent import procfs, sockets


class ProcNetTcpTest(unittest.TestCase):
    def test_listening_and_connected_sockets(self):
        server = socket.socket()
        server.bind(('127.0.0.1', 0))
        server.listen(1)
        port = server.getsockname()[1]
        client = socket.create_connection(('127.0.0.1', port))
        accepted, _ = server.accept()
        try:
            entries = sockets.read_tcp_sockets()
            mine = sockets.socket_inodes(os.getpid())
            listen = [e for e in entries if e['local'] == ('127.0.0.1', port) and e['state'] == sockets.TCP_LISTEN]
            self.assertEqual(len(listen), 1)
            self.assertIn(listen[0]['inode'], mine)
            client_port = client.getsockname()[1]
            established = [e for e in entries if e['local'] == ('127.0.0.1', client_port)]
            self.assertEqual(established[0]['remote'], ('127.0.0.1', port))
            self.assertEqual(established[0]['state'], sockets.TCP_ESTABLISHED)
            self.assertEqual(established[0]['uid'], os.getuid())
        finally:
            for s in (client, accepted, server):
                s.close()

    def test_ipv6_address_decoding(self):
        text = ('  sl  local_address                         remote_address                        st tx_queue '
                'rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
                '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A '
                '00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n')
        [entry] = sockets.parse_proc_net_tcp(text)
        self.assertEqual(entry['local'], ('::1', 8080))
        self.assertEqual((entry['state'], entry['uid'], entry['inode']), (10, 1000, 4242))


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
            argv = dict((p, procfs.read_cmdline(p)) for p in (adapter.pid, debuggee.pid, os.getpid()))
            self.assertEqual(sockets.find_debugpy_ports(argv), {debuggee.pid: client_port})
            run = run_agent({'op': 'list', 'sampleSeconds': 0.05})
            records = dict((p['pid'], p) for p in run.result['processes'])
            self.assertEqual(records[debuggee.pid]['debugpyPort'], client_port)
            self.assertIsNone(records[adapter.pid]['debugpyPort'])
            self.assertNotIn('sekrit', run.stdout)
            self.assertIn('***', records[adapter.pid]['argv'])
        finally:
            stop(adapter, debuggee)


class WakeTest(unittest.TestCase):
    def test_wake_address(self):
        self.assertEqual(sockets.wake_address(('0.0.0.0', 80)), ('127.0.0.1', 80))
        self.assertEqual(sockets.wake_address(('::', 80)), ('::1', 80))
        self.assertEqual(sockets.wake_address(('10.1.2.3', 8000)), ('10.1.2.3', 8000))

    def test_wake_of_a_process_without_listeners_or_gone_does_nothing(self):
        sockets.wake(os.getpid())
        sockets.wake(999999999)


if __name__ == '__main__':
    unittest.main()
