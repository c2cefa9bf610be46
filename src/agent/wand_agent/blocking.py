"""What a thread is blocked in, from /proc/PID/task/TID/syscall and wchan."""

import os

from .procfs import read_stat, read_text_or_none


_SYSCALL_NAMES = {
    'x86_64': {
        0: 'read()', 7: 'poll()', 23: 'select()', 270: 'select()', 271: 'poll()',
        232: 'epoll_wait()', 281: 'epoll_wait()', 441: 'epoll_wait()',
        202: 'a lock or Event.wait()', 35: 'time.sleep()', 230: 'time.sleep()',
        43: 'accept()', 288: 'accept()', 45: 'recv()', 47: 'recv()',
        61: 'waitpid()', 247: 'waitpid()', 34: 'signal.pause()', 42: 'connect()',
    },
    'aarch64': {
        63: 'read()', 73: 'poll()', 72: 'select()', 22: 'epoll_wait()', 441: 'epoll_wait()',
        98: 'a lock or Event.wait()', 101: 'time.sleep()', 115: 'time.sleep()',
        202: 'accept()', 242: 'accept()', 207: 'recv()', 212: 'recv()',
        260: 'waitpid()', 95: 'waitpid()', 203: 'connect()',
    },
}

_WCHAN_NAMES = (
    ('select', 'select()'),
    ('poll_schedule', 'select() or poll()'),
    ('epoll', 'epoll_wait()'),
    ('ep_poll', 'epoll_wait()'),
    ('futex', 'a lock or Event.wait()'),
    ('nanosleep', 'time.sleep()'),
    ('inet_csk_accept', 'accept()'),
    ('pipe_read', 'read()'),
    ('sk_wait_data', 'recv()'),
    ('unix_stream_read', 'recv()'),
    ('do_wait', 'waitpid()'),
    ('pause', 'signal.pause()'),
)


def describe_blocking(syscall_text, wchan, machine):
    """A short human name for what a sleeping thread waits in, from /proc syscall and wchan."""
    if syscall_text:
        first = syscall_text.split()[0] if syscall_text.split() else ''
        if first == 'running':
            return None
        if first.lstrip('-').isdigit():
            name = _SYSCALL_NAMES.get(machine, {}).get(int(first))
            if name:
                return name
    if wchan and wchan != '0':
        for fragment, name in _WCHAN_NAMES:
            if fragment in wchan:
                return name
        return wchan
    return None


def blocked_in(pid):
    task = '/proc/%d/task/%d' % (pid, pid)
    stat = read_stat(pid)
    if stat is None or stat['state'] == 'R':
        return None
    return describe_blocking(read_text_or_none(task + '/syscall'),
                             (read_text_or_none(task + '/wchan') or '').strip(),
                             os.uname()[4])
