"""A target application for test_ptrace_inject.py (runs on Python 3.9+).

    python ptrace_target.py MODE [LOCKFILE]

Two busy threads, a 100 Hz SIGALRM whose handler counts ticks, and a line server on 127.0.0.1
(one thread per connection): "ping" -> "pong", "stats" -> JSON {ticks, served}. Prints
"READY <port>" once serving. The main thread then does MODE:

  sleep   time.sleep(3600) forever          cpu     a bytecode loop
  lock    Lock().acquire() twice            event   Event().wait()
  cregex  re.match calls of ~20-40 ms each, in C holding the GIL
  asyncio an idle asyncio event loop (epoll_wait)
  cycle   all of the above in turn, ~50 ms each
  read    os.read() on a pipe nobody writes, SIGALRM blocked in this thread
  flock   fcntl.flock(LOCKFILE) (held by the test), SIGALRM blocked; then sleeps

Injected code proves it ran in the main thread by comparing threading.get_ident() with MAIN.
"""

import fcntl
import json
import os
import re
import signal
import socket
import sys
import threading
import time

MAIN = threading.get_ident()
ticks = 0
served = 0


def on_alarm(signum, frame):
    global ticks
    ticks += 1


def busy():
    x = 0
    while True:
        x = (x * 31 + 7) % 1000003


def handle(conn):
    global served
    with conn, conn.makefile('rwb', buffering=0) as f:
        for line in f:
            if line.strip() == b'stats':
                f.write(json.dumps({'ticks': ticks, 'served': served}).encode() + b'\n')
            else:
                served += 1
                f.write(b'pong\n')


def serve(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def slow_regex_input():
    """A subject for re.match(r'(a|aa)*c', ...) that takes 20-40 ms in C, holding the GIL."""
    n = 16
    while n < 40:
        begun = time.perf_counter()
        re.match(r'(a|aa)*c', 'a' * n)
        if time.perf_counter() - begun > 0.02:
            break
        n += 1
    return 'a' * n


def main():
    mode = sys.argv[1]
    signal.signal(signal.SIGALRM, on_alarm)
    for _ in range(2):
        threading.Thread(target=busy, daemon=True).start()
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(64)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    subject = slow_regex_input() if mode in ('cregex', 'cycle') else ''
    signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
    print('READY %d' % listener.getsockname()[1], flush=True)
    if mode == 'sleep':
        while True:
            time.sleep(3600)
    elif mode == 'cpu':
        while True:
            sum(range(1000))
    elif mode == 'lock':
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()
    elif mode == 'event':
        threading.Event().wait()
    elif mode == 'cregex':
        while True:
            re.match(r'(a|aa)*c', subject)
    elif mode == 'asyncio':
        import asyncio
        asyncio.run(asyncio.sleep(3600))
    elif mode == 'cycle':
        lock, event = threading.Lock(), threading.Event()
        lock.acquire()
        while True:
            time.sleep(0.05)
            end = time.monotonic() + 0.05
            while time.monotonic() < end:
                sum(range(1000))
            lock.acquire(timeout=0.05)
            event.wait(0.05)
            re.match(r'(a|aa)*c', subject)
    elif mode == 'read':
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        r, w = os.pipe()
        os.read(r, 1)
    elif mode == 'flock':
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        with open(sys.argv[2], 'rb') as f:
            fcntl.flock(f, fcntl.LOCK_EX)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
        print('LOCKED', flush=True)
        while True:
            time.sleep(3600)


main()
