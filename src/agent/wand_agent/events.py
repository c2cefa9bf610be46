"""Output: AgentError and the event lines written to stdout (one JSON object per line)."""

import _thread
import json
import os
import signal
import sys


class AgentError(Exception):
    """An outcome the CLI knows how to explain: becomes an `error` event."""

    def __init__(self, code, message, **extra):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.extra = extra


_emit_lock = _thread.allocate_lock()
#: in a session, `.id` is the id of the request the current thread serves (threading.local)
_request = _thread._local()
_serving = False
_silent = False


def end_output():
    """Nobody reads stdout any more (its end of stdin): events are dropped from now on."""
    global _silent
    _silent = True


def start_serving():
    """From now on a stdout nobody reads ends the session (SIGTERM to ourselves) instead of raising."""
    global _serving
    _serving = True


def emit(event):
    """Write one event line; in a session, tagged with the current thread's request id."""
    if _silent:
        return
    request_id = getattr(_request, 'id', None)
    if request_id is not None and 'id' not in event:
        event = dict(event, id=request_id)
    line = json.dumps(event, separators=(',', ':')) + '\n'
    with _emit_lock:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):
            if not _serving:
                raise
            # nobody reads us any more: end the session as at the end of stdin
            os.kill(os.getpid(), signal.SIGTERM)
