"""Reading /proc: stat, status, cmdline, environ, memory, uptime, the container's users."""

import os

from .contract import REPORTED_ENV


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def read_text_or_none(path):
    try:
        with open(path, 'r', errors='replace') as f:
            return f.read()
    except (OSError, ValueError):
        return None


def readlink_or_none(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def list_pids():
    return sorted(int(name) for name in os.listdir('/proc') if name.isdigit())


def process_exists(pid):
    return os.path.exists('/proc/%d/stat' % pid)


def parse_stat(text):
    """Fields of /proc/PID/stat that we use. The command name may hold spaces and parentheses."""
    fields = text[text.rindex(')') + 2:].split()
    # fields[0] is field 3 of proc(5) ("state")
    return {
        'state': fields[0],
        'ppid': int(fields[1]),
        'ticks': int(fields[11]) + int(fields[12]),  # utime + stime
        'starttime': int(fields[19]),
    }


def read_stat(pid):
    """None when the process is gone."""
    try:
        return parse_stat(read_bytes('/proc/%d/stat' % pid).decode('utf-8', 'replace'))
    except (OSError, ValueError, IndexError):
        return None


def parse_status(text):
    status = {}
    for line in text.splitlines():
        key, _, value = line.partition(':')
        status[key] = value.strip()
    return status


def read_status(pid):
    text = read_text_or_none('/proc/%s/status' % pid)
    return parse_status(text) if text is not None else None


def status_ids(status, key):
    """Uid/Gid lines: real, effective, saved, filesystem."""
    try:
        return [int(v) for v in status[key].split()]
    except (KeyError, ValueError):
        return []


def read_cmdline(pid):
    try:
        raw = read_bytes('/proc/%d/cmdline' % pid)
    except OSError:
        return []
    if raw.endswith(b'\0'):
        raw = raw[:-1]
    if not raw:
        return []
    return [arg.decode('utf-8', 'replace') for arg in raw.split(b'\0')]


def parse_environ(raw):
    env = {}
    for entry in raw.split(b'\0'):
        name, sep, value = entry.partition(b'=')
        if sep:
            env[name.decode('utf-8', 'replace')] = value.decode('utf-8', 'replace')
    return env


def read_environ(pid):
    """The whole environment, or None when not permitted. Only reported_env() leaves the agent."""
    try:
        return parse_environ(read_bytes('/proc/%d/environ' % pid))
    except OSError:
        return None


def reported_env(environ):
    if environ is None:
        return None
    return dict((name, environ[name]) for name in REPORTED_ENV if name in environ)


def read_rss_bytes(pid):
    text = read_text_or_none('/proc/%d/statm' % pid)
    try:
        return int(text.split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (AttributeError, IndexError, ValueError):
        return 0


def read_uptime_seconds():
    return float(read_text_or_none('/proc/uptime').split()[0])


def read_passwd(path='/etc/passwd'):
    """uid -> user name, from the container's own /etc/passwd."""
    users = {}
    text = read_text_or_none(path) or ''
    for line in text.splitlines():
        parts = line.split(':')
        if len(parts) >= 3 and parts[2].isdigit():
            users.setdefault(int(parts[2]), parts[0])
    return users
