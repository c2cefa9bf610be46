"""kubectl-wand in-pod agent: lists processes, injects debugpy, runs code and reads stacks.

Protocol (see src/agent/contract.ts for the exact types)
--------------------------------------------------------
The CLI runs ``kubectl exec -i POD -c C -- python3 -`` and writes to stdin the bytes of this file
followed by one line ``main("<base64 of a JSON AgentRequest>")``, then closes stdin (Python reads
the whole program before running it). The agent answers on stdout with one JSON object per line
(AgentEvent), flushed one by one; the last line is always ``{"event": "result", ...}`` or
``{"event": "error", ...}``. The exit status is 0 after a result and 1 after an error.
Diagnostics never go to stdout.

Requests: ``list`` (read /proc), ``inject`` (make debugpy listen inside a process), ``close`` (this
session leaves a process it injected: its debugpy listener closes when no other session holds it,
see in_target/listener.py), ``exec`` (run code inside a process and return its output), ``stack``
(read every thread's stack without running anything in the process).

Session mode (``kubectl wand debug``: one exec for the whole debug session)
--------------------------------------------------------------------------
The CLI runs ``python3 -c SESSION_BOOTSTRAP`` (contract.ts), which reads one line of stdin (this
file in base64), runs it and calls ``serve()``. Then every stdin line is one JSON request
``{"id": N, "op": ...}`` (N >= 1) and every stdout line one event carrying the ``id`` of the
request it belongs to; the first line is ``{"event": "ready", "id": 0, ...}``. Requests run
concurrently, each in its own thread, and end with a ``result`` or ``error`` event as in one-shot
mode. An unreadable request line gets an ``error`` with ``"id": null``.

``watch`` (pids) replaces the set of watched processes. While nothing exits the agent only waits
on pidfds (Python < 3.9 or no pidfd_open: it looks the pids up in /proc every 0.5 s). When a
watched process exits it emits ``exited``, then follows the process table (every 50 ms, for 15 s
after the last exit, or until the next ``watch``) and emits ``processes`` (full records, no CPU
sampling) whenever the set of (pid, argv) changed, the first time at once. Reloaders and
supervisors (uvicorn, werkzeug, Django, gunicorn) replace a worker only after it exited, so a new
child that appears without any exit is not reported.

End of stdin, SIGTERM or SIGHUP end the session: the files of requests in flight are removed (a
payload still pending in a target stays, as below) and the agent exits with status 0. At the end of
stdin it first closes, in parallel and within ~2.5 s, every process it injected that the CLI did
not close (a CLI killed, an exec dropped). One agent is one session: its identity (pid and start
time) is what the target's listener counts, so a session whose agent is gone stops counting.

How code gets into the target (inject and exec)
-----------------------------------------------
1. A private directory (mkdtemp ``wand-*``) receives the injected script ``payload`` (no ``.py``
   suffix, so reloaders watching ``*.py`` ignore it) and a Unix socket ``status``.
2. ``sys.remote_exec(PID, PAYLOAD)`` is called by the agent itself when the target runs the very
   binary the agent runs (and the agent may use remote debugging), else by
   ``/proc/PID/exe -S -c INJECTOR_SOURCE PID PAYLOAD``: the target's own interpreter, so versions
   and builds always match.
   Then, if the target listens on TCP, one connection to it (closed at once, no bytes) wakes an
   idle event loop or select() so that the next step happens now, not at its poll timeout.
3. When the target's main thread next runs bytecode it executes the payload, which connects to
   the socket, says ``started``, waits for the agent's ``go``, does its work and reports one JSON
   line. If the agent is gone (connect fails) the payload does nothing but delete its own files.
   If the main thread is inside an import then, the payload imports nothing: a thread waits for
   the import to end and queues the payload for the main thread again.
4. Meanwhile the agent emits a ``waiting`` event every second (with what the main thread is
   blocked in) until ``started``, queues the payload again each time (a call queued while the
   target's interpreter was still starting can be lost), and gives up with error ``timeout`` and
   the main thread's stack.

A socket rather than a FIFO: a payload writing to a FIFO whose reader died gets SIGPIPE, which
kills a target that reset SIGPIPE to SIG_DFL; ``send(..., MSG_NOSIGNAL)`` cannot. The socket also
gives end-of-file and a way to answer ``go``, so code never runs unless the agent still waits.

Behaviour worth knowing
-----------------------
* On timeout or cancel, a payload the target has not run yet is replaced in the target by
  /dev/null (a newer sys.remote_exec overwrites the pending one), then removed: deleting a script
  that is still pending would make the target log "Can't open debugger script" when it wakes.
* inject reuses a debugpy listener only if /proc shows its adapter alive and linked to the target.
  debugpy's adapter exits when its client sends "disconnect"; the next inject then listens again
  (after pydevd has disposed of the old session), which debugpy itself would refuse.
* waitForClient: after reporting ``listening`` the payload holds the target's main thread in
  debugpy.wait_for_client(), at most WAIT_FOR_CLIENT_SECONDS (a timer cancels it), so a CLI that
  dies never freezes the application for good.
* debugpyZipBase64 is extracted next to the private directory as ``wand-debugpy-<sha256[:16]>``
  (world-readable, owned by the agent, reused while intact) and put first on the target's sys.path
  unless debugpy is already imported there. It stays: the target imports from it while debugging.
* exec runs the code on the main thread with sys.stdout/sys.stderr swapped for buffers (output of
  other threads during that time lands in the buffers too) and, like the REPL, prints the repr of
  a final expression. Its syntax is checked here first when this interpreter is at least as new
  as the target's.

Runs on Python 3.8+ with the standard library only; needs no shell, ``ps`` or ``tar``.

Source layout
-------------
This docstring opens the one program streamed into the pod (build/src/agent/agent.py), which
src/agent/assemble.ts writes from the modules of this package: each module's standard-library
imports are hoisted (once, at the top), its ``from .x import ...`` lines are dropped, and the
bodies follow one another in dependency order. So a module imports other modules' names only
with ``from .module import name`` at its top, never lazily, and no two modules define the same
top-level name.
"""

# A module imports at its top only what every operation needs: Python's start is most of what
# `list` costs, so modules that some operations need (subprocess, socket, tempfile, threading,
# traceback...) are imported in the functions that use them.
