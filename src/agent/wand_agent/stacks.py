"""Stacks: every thread's frames read with RemoteUnwinder by the target's interpreter; no code runs
in the target."""

import json

from .events import AgentError
from .helper_python import HELPER_TIMEOUT_SECONDS, STACK_SOURCE, finish_process, start_target_python
from .targets import error_from_helper


def _frame_from_plain(frame):
    if isinstance(frame, dict):
        line = frame.get('lineno')
        location = frame.get('location')
        if line is None and isinstance(location, dict):
            line = location.get('lineno')
        elif line is None and isinstance(location, list) and location:
            line = location[0]
        return {'function': str(frame.get('funcname') or frame.get('function') or '?'),
                'file': str(frame.get('filename') or frame.get('file') or '?'),
                'line': int(line or 0)}
    if isinstance(frame, list):
        numbers = [v for v in frame if isinstance(v, int) and not isinstance(v, bool)]
        texts = [v for v in frame if isinstance(v, str)]
        line = numbers[0] if numbers else 0
        if len(texts) >= 2:
            # Documented order is (function, file, line); structseq order is (file, line, function).
            function, file = texts[0], texts[1]
            if _looks_like_path(function) and not _looks_like_path(file):
                function, file = file, function
            return {'function': function, 'file': file, 'line': line}
    return {'function': str(frame), 'file': '?', 'line': 0}


def _looks_like_path(text):
    return '/' in text or '\\' in text or text.endswith('.py') or (text.startswith('<') and text.endswith('>')
                                                                   and text not in ('<module>', '<lambda>'))


def _threads_from_plain(value):
    """Flatten RemoteUnwinder output (threads, or interpreters holding threads) to (id, frames)."""
    threads = []
    for item in value or []:
        if isinstance(item, dict) and 'threads' in item:
            threads.extend(_threads_from_plain(item['threads']))
        elif isinstance(item, dict):
            threads.append((item.get('thread_id'), item.get('frame_info') or []))
        elif isinstance(item, list) and len(item) == 2 and isinstance(item[1], list):
            threads.append((item[0], item[1]))
    return threads


def normalise_stacks(raw, pid):
    """ThreadStack[] (main thread first) from the stack reader's plain JSON."""
    threads = _threads_from_plain(raw.get('threads'))
    main_threads = _threads_from_plain(raw.get('main'))
    main_id = main_threads[0][0] if main_threads else pid
    stacks = []
    for thread_id, frames in threads:
        stacks.append({
            'threadId': int(thread_id) if isinstance(thread_id, int) else 0,
            'isMain': thread_id == main_id,
            'frames': [_frame_from_plain(f) for f in frames],
        })
    if not any(s['isMain'] for s in stacks):
        for s in stacks:
            s['isMain'] = s['threadId'] == pid
    stacks.sort(key=lambda s: not s['isMain'])
    return stacks


def read_stacks(target):
    try:
        proc = start_target_python(target.exe_path, STACK_SOURCE, [target.pid])
    except OSError as exc:
        raise AgentError('internal', 'could not run the interpreter of process %d: %s' % (target.pid, exc))
    code, out, err = finish_process(proc, HELPER_TIMEOUT_SECONDS)
    if code != 0:
        raise error_from_helper(target.pid, err, 'read the stacks of')
    try:
        return normalise_stacks(json.loads(out), target.pid)
    except ValueError:
        raise AgentError('internal', 'unreadable stack output: %r' % out[:200])


def main_thread_stack_or_none(target):
    try:
        return [s for s in read_stacks(target) if s['isMain']] or None
    except AgentError:
        return None
