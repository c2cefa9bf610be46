"""The injected script: PAYLOAD_TEMPLATE, self-contained, rendered into the file the target runs."""

import base64
import json
import os
import sys


def in_target_source(name):
    """The text of in_target/NAME, code that runs in the target and travels in the payload as text.

    The assembled agent has no files (nor __file__): assemble.ts replaces each top-level
    `X = in_target_source('f.py')` by the file's text, so this runs only from source (the tests)."""
    package_dir = os.path.dirname(os.path.abspath(sys.modules[__name__].__file__))
    with open(os.path.join(package_dir, 'in_target', name)) as f:
        return f.read()


#: closing the listener (see in_target/listener.py), for the payloads of inject and close
LISTENER_SOURCE = in_target_source('listener.py')


# Runs in the target, on its main thread, with fresh globals (no __file__). Its only input is the
# base64 JSON literal substituted for __WAND_CONFIG__: no string is ever interpolated into code.
# Nothing may escape from it: every failure is reported to the agent or dropped.
PAYLOAD_TEMPLATE = r'''
# kubectl-wand: injected through sys.remote_exec (or the ptrace injector before 3.14); reports to the kubectl-wand agent, then returns.

# in_target/listener.py (inject and close only), run by _wand_listener() in a namespace of its own
_WAND_LISTENER_SOURCE = '__WAND_LISTENER__'

class _WandChannel(object):
    def __init__(self, sock):
        self.sock = sock

    @classmethod
    def connect(cls, path):
        import socket
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(5.0)
            sock.connect(path)
        except OSError:
            sock.close()
            return None
        return cls(sock)

    def send(self, message):
        import json, socket
        try:
            self.sock.settimeout(30.0)
            self.sock.sendall(json.dumps(message).encode('ascii') + b'\n', socket.MSG_NOSIGNAL)
        except OSError:
            pass

    def wait_for_go(self):
        received = b''
        try:
            self.sock.settimeout(5.0)
            while not received.endswith(b'\n'):
                chunk = self.sock.recv(64)
                if not chunk:
                    return False
                received += chunk
        except OSError:
            return False
        return received.strip() == b'go'

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _wand_forget(config):
    """Remove the files the agent left for us (only those): the payload script and its directory."""
    import os
    for path, remove in ((config['payload'], os.unlink), (config['dir'], os.rmdir)):
        try:
            remove(path)
        except OSError:
            pass


def _wand_main_file():
    import os, sys
    main = sys.modules.get('__main__')
    path = getattr(main, '__file__', None)
    if not path and sys.argv and sys.argv[0] not in ('', '-c', '-m', '-'):
        path = sys.argv[0]
    return os.path.abspath(path) if path else None


def _wand_cwd():
    import os
    try:
        return os.getcwd()
    except OSError:
        return ''


def _wand_import_debugpy(config):
    import os, sys
    if config.get('debugpyPath') and 'debugpy' not in sys.modules:
        if config['debugpyPath'] not in sys.path:
            sys.path.insert(0, config['debugpyPath'])
        # modules the copy's pydevd needs on older Pythons (typing_extensions on 3.9): last on the
        # path, so the app's own copy wins
        fallback = os.path.join(config['debugpyPath'], 'wand-fallback')
        if os.path.isdir(fallback) and fallback not in sys.path:
            sys.path.append(fallback)
    import debugpy
    return debugpy


def _wand_listener():
    """The functions of in_target/listener.py (its state lives in sys._wand_listener)."""
    namespace = {'__name__': '_wand_listener'}
    exec(compile(_WAND_LISTENER_SOURCE, '<kubectl-wand listener>', 'exec'), namespace)
    return namespace


def _wand_close(config, channel):
    """This session leaves; the listener closes if it was the last one (see listener.leave)."""
    report = _wand_listener()['leave'](config['session'], bool(config.get('keepListening')))
    channel.send(dict(report, status='closed'))


def _wand_inject(config, channel, sys_path0):
    """Make debugpy listen (or find it listening); report it. Returns what to do after closing."""
    import sys
    existing = getattr(sys, '_wand_debugpy', None)
    try:
        debugpy = _wand_import_debugpy(config)
    except ImportError as exc:
        channel.send({'status': 'error', 'code': 'no-debugpy',
                      'message': 'debugpy cannot be imported in the target: %s' % exc})
        return None
    listener = _wand_listener()
    api = sys.modules.get('debugpy.server.api')
    called = bool(getattr(getattr(api, 'listen', None), 'called', False))
    host, port = '127.0.0.1', config['livePort']

    def report(host, port, reused):
        if reused:
            owner = listener['owner']()
        else:  # debugpy sets listen.called only after this point: ours, by definition
            owner = 'wand'
            listener['note_listening'](host, port)
        joined = listener['join'](config['session'], config.get('agentPid'), config.get('agentStart'))
        main_file = _wand_main_file()
        channel.send({
            'status': 'listening', 'host': host, 'port': port, 'reused': reused,
            'owner': owner, 'otherSessions': joined.get('otherSessions', 0),
            'debugpyVersion': str(getattr(debugpy, '__version__', '?')),
            'cwd': _wand_cwd(), 'mainFile': main_file, 'sysPath0': sys_path0,
            'underSitePackages': bool(main_file) and ('/site-packages/' in main_file
                                                       or '/dist-packages/' in main_file),
        })

    if port is None and called and not config['listenerStateKnown']:
        if existing:
            host, port = existing
        report(host, port, True)
    elif port is None:
        if called:
            # The agent saw no adapter serving us: the last client's "disconnect" ended it.
            # debugpy refuses a second listen() only through this flag; listening again works
            # once pydevd has disposed of the old session (it unregisters its debugger ~0.7 s
            # after the adapter went away; a listen() before that is torn down with it).
            _wand_wait_for_old_session(api)
            api.listen.called = False
        listener['prepare_listen']()
        debugpy.configure(subProcess=False)
        listener['opening'](True)
        try:
            sys._wand_debugpy = _wand_listen(debugpy, config['port'], lambda: report('127.0.0.1', config['port'], False))
            # now pydevd holds the adapter's token: find and remember the adapter
            listener['note_listening']('127.0.0.1', config['port'])
        finally:
            listener['opening'](False)
    else:
        report(host, port, True)
    if config['waitForClient']:
        return lambda: _wand_wait_for_client(debugpy, config['waitForClientSeconds'])
    return None


def _wand_listen(debugpy, port, on_adapter_listening):
    """debugpy.listen(), calling on_adapter_listening() once its adapter listens for clients.

    listen() then connects pydevd to the adapter, which takes ~0.1 s (pydevd sleeps that long for
    its threads); an editor attaching meanwhile is held by the adapter until pydevd is there (it
    waits for "the server connecting shortly"). So the port is ready before listen() returns. The
    moment is the adapter's endpoints arriving, which listen() follows with _settrace(): wrapped
    for this one call. Without that function (another debugpy), we report when listen() returns.
    """
    from debugpy.server import api
    original = getattr(api, '_settrace', None)
    reported = []

    def settrace(*args, **kwargs):
        api._settrace = original
        reported.append(True)
        on_adapter_listening()
        return original(*args, **kwargs)

    if callable(original):
        api._settrace = settrace
    try:
        address = debugpy.listen(('127.0.0.1', port))
    finally:
        if callable(original):
            api._settrace = original
    if not reported:
        on_adapter_listening()
    return address


def _wand_wait_for_old_session(api, seconds=5.0):
    import time
    get_debugger = getattr(api, 'get_global_debugger', None)
    deadline = time.monotonic() + seconds
    while get_debugger is not None and get_debugger() is not None:
        if time.monotonic() > deadline:
            raise RuntimeError("debugpy's previous session in this process is still shutting down; try again")
        time.sleep(0.05)


def _wand_wait_for_client(debugpy, seconds):
    """Hold the main thread until a client attaches, but never longer than `seconds`."""
    import threading
    timer = threading.Timer(seconds, lambda: debugpy.wait_for_client.cancel())
    timer.daemon = True
    timer.start()
    try:
        debugpy.wait_for_client()
    finally:
        timer.cancel()


def _wand_run_user_code(code, filename, namespace):
    """exec the code; like the REPL, print the repr of a final expression that is not None."""
    import ast
    tree = ast.parse(code, filename, 'exec')
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, 'exec'), namespace)
    if last is not None:
        value = eval(compile(last, filename, 'eval'), namespace)
        if value is not None:
            print(repr(value))


def _wand_user_traceback(exc, filename):
    import traceback
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return ''.join(traceback.format_exception(type(exc), exc, tb))


def _wand_clip(text, limit):
    if len(text) <= limit:
        return text
    return text[:limit] + '\n[kubectl-wand: %d more characters not shown]\n' % (len(text) - limit)


def _wand_exec(config, channel):
    """Run the user's code with stdout/stderr captured; returns True if it was interrupted."""
    import builtins, contextlib, io, linecache, sys
    code, module, filename = config['code'], config.get('module'), '<wand-exec>'
    if module:
        if module not in sys.modules:
            channel.send({'status': 'error', 'code': 'injected-code-failed',
                          'message': 'module %r is not imported in the target process' % module})
            return False
        namespace = vars(sys.modules[module])
    else:
        namespace = {'__name__': '__wand_exec__', '__builtins__': builtins}
    out, err = io.StringIO(), io.StringIO()
    trace, interrupted = None, False
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                _wand_run_user_code(code, filename, namespace)
            except BaseException as exc:
                interrupted = isinstance(exc, KeyboardInterrupt)
                trace = _wand_user_traceback(exc, filename)
    finally:
        linecache.cache.pop(filename, None)
    limit = config['maxOutputChars']
    channel.send({'status': 'exec-done', 'stdout': _wand_clip(out.getvalue(), limit),
                  'stderr': _wand_clip(err.getvalue(), limit), 'traceback': trace})
    return interrupted


def _wand_importing():
    """True while some module is half-way through its first import (on any thread)."""
    import sys
    for module in list(sys.modules.values()):
        if getattr(getattr(module, '__spec__', None), '_initializing', False):
            return True
    return False


def _wand_report_failure(channel):
    import sys, traceback
    exc = sys.exc_info()[1]
    channel.send({'status': 'error', 'code': 'injected-code-failed',
                  'message': '%s: %s' % (type(exc).__name__, exc),
                  'traceback': traceback.format_exc()})


def _wand_inject_reporting(config, channel, sys_path0):
    try:
        _wand_inject(dict(config, waitForClient=False), channel, sys_path0)
    except BaseException:
        _wand_report_failure(channel)
    finally:
        channel.close()


def _wand_after_imports(config_b64, seconds=60.0):
    """On a thread: wait until no import is in progress, then queue this script for the main thread
    again. Gives up after `seconds` (the agent then reports a timeout with the main thread's stack)."""
    import os, sys, time
    try:
        deadline = time.monotonic() + seconds
        while _wand_importing() and time.monotonic() < deadline:
            time.sleep(0.01)
        sys._wand_waiting.discard(config_b64)
        if _wand_importing():
            return
        import base64, json
        config = json.loads(base64.b64decode(config_b64).decode('utf-8'))
        # else the agent has given up; before 3.14 (no sys.remote_exec) the agent queues us again
        if os.path.exists(config['status']) and hasattr(sys, 'remote_exec'):
            sys.remote_exec(os.getpid(), config['payload'])
    except BaseException:
        pass


def _wand_run(config_b64):
    import sys
    if _wand_importing():
        # The main thread may be inside an import (a worker still starting): any module imported
        # here could be that half-initialised one (an AttributeError, or worse, later). So nothing
        # but built-in modules until the imports are over; then the main thread runs us again.
        waiting = sys.__dict__.setdefault('_wand_waiting', set())
        if config_b64 not in waiting:  # the agent queues us again every second meanwhile
            waiting.add(config_b64)
            import _thread
            _thread.start_new_thread(_wand_after_imports, (config_b64,))
        return
    import base64, json
    config = json.loads(base64.b64decode(config_b64).decode('utf-8'))
    channel = _WandChannel.connect(config['status'])
    if channel is None:
        _wand_forget(config)
        return
    sys_path0 = sys.path[0] if sys.path else None
    after, interrupted = None, False
    try:
        channel.send({'status': 'started'})
        go = channel.wait_for_go()
        # Our files are read (this code runs) and the status socket's path is gone (the agent
        # accepted): remove them now, so that an agent killed before its own cleanup leaves nothing.
        _wand_forget(config)
        if not go:
            return
        if config['mode'] == 'inject' and _wand_importing():
            # A worker still starting: the main thread is inside an import, and importing
            # debugpy here would meet its half-initialised modules. A thread waits on their
            # module locks instead, and reports through the channel itself.
            import threading
            threading.Thread(target=_wand_inject_reporting, args=(config, channel, sys_path0),
                             name='wand-inject', daemon=True).start()
            channel = None
            return
        try:
            if config['mode'] == 'inject':
                after = _wand_inject(config, channel, sys_path0)
            elif config['mode'] == 'close':
                _wand_close(config, channel)
            else:
                interrupted = _wand_exec(config, channel)
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            _wand_report_failure(channel)
    finally:
        if channel is not None:
            channel.close()
    try:
        if after is not None:
            after()
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
    if interrupted:
        # A Ctrl-C meant for the application arrived while we ran: hand it back.
        import _thread
        _thread.interrupt_main()


try:
    _wand_run('__WAND_CONFIG__')
except BaseException:
    pass
'''


def render_payload(config):
    encoded = base64.b64encode(json.dumps(config).encode('utf-8')).decode('ascii')
    listener = LISTENER_SOURCE if config.get('mode') in ('inject', 'close') else ''
    return (PAYLOAD_TEMPLATE.replace("'__WAND_LISTENER__'", repr(listener))
            .replace("'__WAND_CONFIG__'", "'%s'" % encoded))
