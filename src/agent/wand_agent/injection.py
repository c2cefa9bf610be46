"""Injection core (shared by inject and exec): queue the payload in the target, talk to it over a
private Unix socket, wait for its outcome, clean up."""

import _thread
import json
import os
import select
import sys
import time

from .blocking import blocked_in
from .contract import ERROR_CODES, MIN_RUN_SECONDS
from .events import AgentError, emit
from .files import cleanup_after, debugpy_copy, give_to_target, make_private_dir, remove_quietly
from .helper_python import (HELPER_TIMEOUT_SECONDS, INJECTOR_SOURCE, file_identity, finish_process, own_answers,
                            start_target_python)
from .payload import render_payload
from .ptrace_route import PtraceQueue
from .procfs import process_exists, read_stat, read_uptime_seconds
from .sockets import wake
from .stacks import main_thread_stack_or_none
from .targets import error_from_helper


def exception_chain(exc):
    """An exception and its causes as INJECTOR_SOURCE writes them, for error_from_helper."""
    chain = []
    while exc is not None and len(chain) < 5:
        chain.append('%s: %s' % (type(exc).__name__, exc))
        exc = exc.__cause__ or exc.__context__
    return ' <- '.join(chain)


def can_inject_in_process(target):
    """True when sys.remote_exec here is what the injector would run: the same binary, and remote
    debugging enabled in the agent (own_interpreter() is None otherwise)."""
    return hasattr(sys, 'remote_exec') and own_answers(file_identity(target.exe_path)) is not None


def run_injector(target, payload_path):
    if can_inject_in_process(target):
        # saves starting an interpreter (~15-20 ms of CPU before the call)
        try:
            sys.remote_exec(target.pid, payload_path)
        except Exception as exc:
            raise error_from_helper(target.pid, exception_chain(exc), 'inject into')
        return
    try:
        proc = start_target_python(target.exe_path, INJECTOR_SOURCE, [target.pid, payload_path])
    except OSError as exc:
        raise AgentError('internal', 'could not run the interpreter of process %d: %s' % (target.pid, exc))
    code, _, err = finish_process(proc, HELPER_TIMEOUT_SECONDS)
    if code != 0:
        raise error_from_helper(target.pid, err, 'inject into')


class StatusChannel(object):
    """The agent's end of the Unix socket: accepts the payload's one connection, reads JSON lines."""

    def __init__(self, path, target):
        import socket
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        os.chmod(path, 0o600)
        give_to_target(path, target)
        self.listener.listen(1)
        self.conn = None
        self.buffer = b''
        #: the payload ran (it connected): nothing of ours is pending in the target any more
        self.connected = False

    def wait(self, timeout):
        """A decoded message, or None when `timeout` passed; raises EOFError if the peer closed."""
        line = self._pop_line()
        if line is not None:
            return line
        watched = self.conn if self.conn is not None else self.listener
        if not select.select([watched], [], [], max(0.0, timeout))[0]:
            return None
        if self.conn is None:
            self.conn, _ = self.listener.accept()
            self.connected = True
            self.close_listener()  # exactly one peer
            return None
        chunk = self.conn.recv(1 << 16)
        if not chunk:
            raise EOFError()
        self.buffer += chunk
        return self._pop_line()

    def _pop_line(self):
        if b'\n' not in self.buffer:
            return None
        line, self.buffer = self.buffer.split(b'\n', 1)
        return json.loads(line.decode('utf-8'))

    def reply(self, text):
        self.conn.sendall(text.encode('ascii') + b'\n')

    def close_listener(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            remove_quietly(self.path)

    def close(self):
        self.close_listener()
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def timeout_error(target, seconds, started):
    blocked = blocked_in(target.pid)
    if started:
        message = 'the injected code started in process %d but did not finish within %g s' % (target.pid, seconds)
    else:
        message = 'the main thread of process %d did not run the injected code within %g s' % (target.pid, seconds)
    if blocked:
        message += ': it is blocked in ' + blocked
    extra = {'blockedIn': blocked}
    stack = main_thread_stack_or_none(target)
    if stack:
        extra['stack'] = stack
    return AgentError('timeout', message, **extra)


#: until the payload connects it is queued again this often for the first FAST_REARM_SECONDS, then
#: every second (see await_outcome)
FAST_REARM_INTERVAL = 0.25
FAST_REARM_SECONDS = 2.0


def await_outcome(target, channel, timeout_seconds, rearm=None):
    """Wait for the payload: `waiting` every second until it starts, then its final message.

    Until the payload connects, `rearm()` runs, four times a second at first, then every second:
    a call queued while the target's interpreter was still starting can be lost (seen with
    uvicorn's new reload workers, about every other reload, which then ran it on a second try at
    once). Queueing the same script again replaces the pending one; a run that started just before
    finds the agent gone when it connects and only forgets its files.
    """
    begun = time.monotonic()
    deadline = begun + timeout_seconds
    next_tick = begun + 1.0
    next_rearm = begun + FAST_REARM_INTERVAL
    started = False
    run_seconds = timeout_seconds
    while True:
        now = time.monotonic()
        if now >= deadline:
            raise timeout_error(target, run_seconds if started else timeout_seconds, started)
        if rearm is not None and not channel.connected and now >= next_rearm:
            rearm()
            interval = FAST_REARM_INTERVAL if now - begun < FAST_REARM_SECONDS else 1.0
            next_rearm = time.monotonic() + interval
        wake_at = next_tick if (rearm is None or channel.connected) else min(next_tick, next_rearm)
        try:
            message = channel.wait(min(deadline, wake_at) - now)
        except EOFError:
            raise AgentError('injected-code-failed', 'the injected code in process %d stopped without '
                                                     'reporting (see its stderr)' % target.pid)
        if message is not None:
            if message.get('status') != 'started':
                return message
            if not started:
                started = True
                emit({'event': 'started', 'pid': target.pid})
                channel.reply('go')
                run_seconds = max(timeout_seconds, MIN_RUN_SECONDS)
                deadline = time.monotonic() + run_seconds
            continue
        if time.monotonic() >= next_tick:
            next_tick += 1.0
            if not process_exists(target.pid):
                raise AgentError('no-such-process', 'process %d exited while waiting' % target.pid)
            if not started:
                emit({'event': 'waiting', 'pid': target.pid, 'seconds': int(time.monotonic() - begun),
                      'blockedIn': blocked_in(target.pid)})


class PayloadFiles(object):
    """The private directory of one injection, with the payload script and the status socket."""

    def __init__(self, workdir):
        self.dir = workdir
        self.payload = os.path.join(workdir, 'payload')
        self.status = os.path.join(workdir, 'status')
        self.channel = None
        #: sys.remote_exec may hold the payload's path: the target will open it when it gets to it
        self.handed_over = False
        self._lock = _thread.allocate_lock()
        self._removed = False

    def remove(self, target):
        """Remove our files, once. May run in the main thread while the request's thread still runs.

        A payload the target has not run yet is still pending in it: deleting it would make the
        target log "Can't open debugger script" when it wakes. So the pending path is first
        replaced with /dev/null (one pending script per thread: the newer call wins), which runs
        as an empty script. If that fails, the payload stays: when it runs it finds no agent and
        deletes its own files.
        """
        with self._lock:
            if self._removed:
                return
            self._removed = True
        remove_quietly(self.status)
        connected = self.channel is not None and self.channel.connected
        if self.handed_over and not connected and process_exists(target.pid):
            try:
                run_injector(target, os.devnull)
            except BaseException:
                return
        remove_quietly(self.payload)
        remove_quietly(self.dir, is_dir=True)


def run_payload(target, config, timeout_seconds, debugpy_zip_b64=None):
    """Inject the payload into `target` and return its final message (a dict with `status`)."""
    files = PayloadFiles(make_private_dir(target))
    with cleanup_after(lambda: files.remove(target)):
        if debugpy_zip_b64:
            config['debugpyPath'] = debugpy_copy(target, debugpy_zip_b64, os.path.dirname(files.dir))
        config.update({'status': files.status, 'payload': files.payload, 'dir': files.dir})
        try:
            files.channel = StatusChannel(files.status, target)
            source = render_payload(config)
            fd = os.open(files.payload, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(source)
            give_to_target(files.payload, target)
            if target.injector == 'ptrace':
                return run_ptrace(target, files.channel, source, timeout_seconds)
            files.handed_over = True
            try:
                run_injector(target, files.payload)
            except AgentError as exc:
                if not still_starting(target, exc):
                    files.handed_over = False
                    raise
            except BaseException:
                files.handed_over = False
                raise
            wake(target.pid)
            return await_outcome(target, files.channel, timeout_seconds, lambda: rearm(target, files.payload))
        finally:
            if files.channel is not None:
                files.channel.close()


def run_ptrace(target, channel, source, timeout_seconds):
    """The payload queued by the ptrace injector (Python 3.9-3.13); when this returns, no run of it
    is queued any more. No wake(): the injector makes a main thread blocked outside Python run it."""
    queue = PtraceQueue(target.pid, source, timeout_seconds)
    try:
        try:
            queue.queue()
        except AgentError as exc:
            if exc.code != 'not-ready':  # an interpreter still starting: queued again every second
                raise
        return await_outcome(target, channel, timeout_seconds, queue.rearm)
    finally:
        queue.forget()


#: a process younger than this whose main thread sys.remote_exec cannot find is still starting
STARTING_SECONDS = 10.0


def still_starting(target, error):
    """True when sys.remote_exec failed only because the target's interpreter is not running yet."""
    if "Can't find the main thread" not in error.message:
        return False
    stat = read_stat(target.pid)
    if stat is None:
        return False
    return read_uptime_seconds() - stat['starttime'] / float(os.sysconf('SC_CLK_TCK')) < STARTING_SECONDS


def rearm(target, payload_path):
    """Queue the payload again (it replaces itself: it still runs once) and wake the target."""
    try:
        run_injector(target, payload_path)
    except AgentError:
        return
    wake(target.pid)


def raise_payload_error(target, message):
    if message.get('status') == 'error':
        text = message.get('message') or 'the injected code failed'
        if message.get('traceback'):
            text += '\n' + message['traceback']
        code = message.get('code') if message.get('code') in ERROR_CODES else 'injected-code-failed'
        raise AgentError(code, text)
    raise AgentError('internal', 'unexpected message from the injected code in process %d: %r'
                     % (target.pid, message.get('status')))
