"""Entry points: main() for one-shot mode, serve() for session mode (see the package docstring)."""

import base64
import json
import os
import signal
import sys

from .ephemeral import enter_target_root
from .events import AgentError, _request, emit, end_output, start_serving
from .helper_python import python_version
from .files import run_pending_cleanups
from .ops import OPERATIONS, close_all_injected
from .ptrace_inject import HELD_STOPS
from .watch import Watcher, op_watch


SESSION_OPERATIONS = dict(OPERATIONS, watch=op_watch)


def _exit_on_signal(signum, frame):
    # turn SIGTERM/SIGHUP into an exception so that `finally` blocks remove our files; while the
    # ptrace injector holds a target's thread (milliseconds) the signal comes back afterwards
    if HELD_STOPS.defer(signum):
        return
    raise SystemExit(128 + signum)


def error_event(exc):
    event = {'event': 'error', 'code': exc.code, 'message': exc.message}
    event.update((k, v) for k, v in exc.extra.items() if v is not None)
    return event


def final_event(operation, request):
    """The last event of a request: its result, or the error that ended it."""
    try:
        return {'event': 'result', 'result': operation(request)}
    except AgentError as exc:
        return error_event(exc)
    except Exception as exc:
        import traceback
        return {'event': 'error', 'code': 'internal',
                'message': 'agent failure: %s: %s\n%s' % (type(exc).__name__, exc, traceback.format_exc())}


def checked_operation(request, operations):
    if not isinstance(request, dict) or request.get('op') not in operations:
        raise AgentError('internal', 'unknown operation: %r' % (request.get('op') if isinstance(request, dict) else request))
    return request['op']


def decode_request(request_b64):
    try:
        request = json.loads(base64.b64decode(request_b64).decode('utf-8'))
    except (ValueError, TypeError) as exc:
        raise AgentError('internal', 'malformed request: %s' % exc)
    checked_operation(request, OPERATIONS)
    return request


def main(request_b64):
    """One-shot mode: one request, then exit 0 after a result and 1 after an error."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    try:
        request = decode_request(request_b64)
    except AgentError as exc:
        event = error_event(exc)
    else:
        event = final_event(OPERATIONS[request['op']], request)
    emit(event)
    sys.exit(0 if event['event'] == 'result' else 1)


def serve(root_pid=None):
    """Session mode (see the module docstring): serves request lines until stdin ends, an `end` line or
    a signal. root_pid: the ephemeral route (see ephemeral.py)."""
    if root_pid is not None:
        enter_target_root(root_pid)
    start_serving()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    watcher = Watcher(emit)
    watcher.start()
    try:
        emit({'event': 'ready', 'id': 0, 'agentPython': python_version(), 'pid': os.getpid(),
              'hostname': os.uname().nodename})
        for line in iter(sys.stdin.buffer.readline, b''):
            # `end`: the CLI is done. An attached container's stdin stays open when kubectl detaches
            # unless the CLI could set stdinOnce (kubectl debug --custom, 1.31+), so end of stdin
            # alone would not always end us.
            if line.strip() == b'end':
                break
            if line.strip():
                dispatch(line, watcher)
        # the CLI went without closing what it injected (killed, or its exec dropped)
        end_output()
        close_all_injected()
    except SystemExit:
        pass
    finally:
        HELD_STOPS.close()  # a request thread may hold a target's thread stopped right now
        run_pending_cleanups()
    # Not sys.exit(): request threads may be blocked in I/O or hold stdout's lock, and interpreter
    # shutdown with daemon threads like that can hang or abort.
    os._exit(0)


def dispatch(line, watcher):
    """Start one request: `watch` at once, any other operation in a thread of its own."""
    request_id = None
    try:
        request = parse_request_line(line)
        request_id = session_request_id(request)
        op = checked_operation(request, SESSION_OPERATIONS)
    except AgentError as exc:
        emit(dict(error_event(exc), id=request_id))
        return
    if op == 'watch':
        event = dict(final_event(op_watch, request), id=request_id)
        if event['event'] == 'result':
            watcher.replace(request_id, event['result']['pids'], lambda: emit(event))
        else:
            emit(event)
        return
    import threading
    thread = threading.Thread(target=serve_request, args=(request_id, request), name='wand-request-%d' % request_id)
    thread.daemon = True
    thread.start()


def parse_request_line(line):
    try:
        return json.loads(line.decode('utf-8'))
    except ValueError as exc:
        raise AgentError('internal', 'malformed request: %s' % exc)


def session_request_id(request):
    request_id = request.get('id') if isinstance(request, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id < 1:
        raise AgentError('internal', "malformed request: 'id' must be a positive integer")
    return request_id


def serve_request(request_id, request):
    _request.id = request_id
    emit(final_event(OPERATIONS[request['op']], request))
