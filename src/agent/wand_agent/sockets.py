"""Sockets: /proc/net/tcp, waking an idle target, and the debugpy listeners that serve processes."""

import os
import select

from .procfs import list_pids, read_cmdline, read_text_or_none, readlink_or_none


TCP_ESTABLISHED = 1
TCP_LISTEN = 10


def _decode_address(text):
    import socket
    host_hex, port_hex = text.split(':')
    raw = bytes.fromhex(host_hex)
    # the kernel prints each 32-bit word in host (little-endian) order
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    packed = b''.join(words)
    if len(packed) == 4:
        host = socket.inet_ntop(socket.AF_INET, packed)
    else:
        host = socket.inet_ntop(socket.AF_INET6, packed)
    return host, int(port_hex, 16)


def parse_proc_net_tcp(text):
    """Entries of /proc/net/tcp or tcp6: local, remote (host, port), state, uid, inode."""
    entries = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10:
            continue
        try:
            entries.append({
                'local': _decode_address(parts[1]),
                'remote': _decode_address(parts[2]),
                'state': int(parts[3], 16),
                'uid': int(parts[7]),
                'inode': int(parts[9]),
            })
        except ValueError:
            continue
    return entries


def read_tcp_sockets():
    entries = []
    for path in ('/proc/net/tcp', '/proc/net/tcp6'):
        text = read_text_or_none(path)
        if text:
            entries.extend(parse_proc_net_tcp(text))
    return entries


def socket_inodes(pid):
    inodes = set()
    fd_dir = '/proc/%d/fd' % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        target = readlink_or_none(fd_dir + '/' + name)
        if target and target.startswith('socket:['):
            inodes.add(int(target[8:-1]))
    return inodes


#: how long waking a target may take at the most (a loopback connect completes at once)
WAKE_TIMEOUT_SECONDS = 0.1


def wake_address(local):
    """Where to connect to a listener bound to `local` (host, port): loopback for a wildcard."""
    host, port = local
    if host == '0.0.0.0':
        return '127.0.0.1', port
    if host == '::':
        return '::1', port
    return host, port


def wake(pid):
    """Connect to one of the process's own listening TCP sockets and close at once (no bytes).

    A server idle in epoll_wait()/select() runs a pending sys.remote_exec script only when that call
    returns (uvicorn: up to 0.1 s later); a connection, like a TCP liveness probe, makes it return now.
    """
    import socket
    try:
        inodes = socket_inodes(pid)
        listeners = sorted(set(e['local'] for e in read_tcp_sockets() if e['state'] == TCP_LISTEN
                               and e['inode'] in inodes), key=lambda local: (':' in local[0], local[1]))
        if not listeners:
            return
        host, port = wake_address(listeners[0])
        sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
    except Exception:
        return
    try:
        sock.setblocking(False)
        if sock.connect_ex((host, port)) != 0:
            # in progress: the listener's poll wakes once the handshake completes
            select.select([], [sock], [], WAKE_TIMEOUT_SECONDS)
    except Exception:
        pass
    finally:
        sock.close()


def option_value(argv, name):
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + '='):
            return arg[len(name) + 1:]
    return None


def debugpy_adapter_port(argv):
    """The client port of a debugpy adapter started by debugpy.listen(), else None."""
    if '--for-server' not in argv or not any('debugpy/adapter' in a or a == 'debugpy.adapter' for a in argv):
        return None
    try:
        return int(option_value(argv, '--port'))
    except (TypeError, ValueError):
        return None


def debugpy_adapters(argv_by_pid):
    """pid -> client port of every debugpy adapter process."""
    adapters = {}
    for pid, argv in argv_by_pid.items():
        port = debugpy_adapter_port(argv)
        if port is not None:
            adapters[pid] = port
    return adapters


def debugpy_listener_of(pid):
    """(client port of the live debugpy adapter serving `pid` or None, whether that is certain).

    Uncertain when an adapter's sockets cannot be read (another user's process).
    """
    argv_by_pid = dict((p, read_cmdline(p)) for p in list_pids())
    known = all(os.access('/proc/%d/fd' % p, os.R_OK | os.X_OK) for p in debugpy_adapters(argv_by_pid))
    return find_debugpy_ports(argv_by_pid).get(pid), known


def find_debugpy_ports(argv_by_pid):
    """pid -> client port of the debugpy adapter that serves it.

    debugpy.listen() spawns an adapter (`.../debugpy/adapter --for-server N --port P`) that
    listens on P for clients and on a second, random port for the debugged process, whose pydevd
    keeps a TCP connection to it. (N is only the listen() caller's short-lived endpoint listener.)
    Link them through the socket inodes of /proc/net/tcp{,6} and /proc/PID/fd.
    """
    adapters = debugpy_adapters(argv_by_pid)
    if not adapters:
        return {}
    sockets = read_tcp_sockets()
    client_port_by_server_port = {}
    for pid, client_port in adapters.items():
        inodes = socket_inodes(pid)
        listening = set(e['local'][1] for e in sockets if e['state'] == TCP_LISTEN and e['inode'] in inodes)
        if client_port in listening:
            for server_port in listening - set([client_port]):
                client_port_by_server_port[server_port] = client_port
    client_port_by_inode = {}
    for e in sockets:
        if e['state'] == TCP_ESTABLISHED and e['inode'] and e['remote'][1] in client_port_by_server_port:
            client_port_by_inode[e['inode']] = client_port_by_server_port[e['remote'][1]]
    ports = {}
    if not client_port_by_inode:
        return ports
    for pid in argv_by_pid:
        if pid in adapters:
            continue
        for inode in socket_inodes(pid):
            if inode in client_port_by_inode:
                ports[pid] = client_port_by_inode[inode]
                break
    return ports
