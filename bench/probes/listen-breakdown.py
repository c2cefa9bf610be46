"""Where a fresh debugpy.listen() spends its time inside the target (the numbers behind the
"in the target" part of bench/README.md). Run against a worker never injected before (it leaves
debugpy listening on 127.0.0.1:5690 there, so use the test cluster, not a real app):

    npm run cluster -- up --manifests test/manifests/fastapi-uvicorn-reload.yaml --state /tmp/lb
    KUBECONFIG=/tmp/lb/kubeconfig kubectl exec -i -n wand-uvicorn POD -- python3 - 3 < bench/probes/listen-breakdown.py

(3 is the uvicorn worker's PID in that pod.) Prints ms from the injected script's start to each
step; the first line is sys.remote_exec → the script's start (no wake-up connection here).
"""
import os
import sys
import tempfile
import time

pid = int(sys.argv[1])
work = tempfile.mkdtemp()
out = os.path.join(work, 'times')
payload = os.path.join(work, 'payload.py')
with open(payload, 'w') as f:
    f.write(f'''
import time as _t
T = [_t.time()]
import debugpy
import debugpy.server.api as api
T.append(('import debugpy.server.api (pydevd)', _t.time()))
import subprocess
_popen = subprocess.Popen.__init__
def _timed_popen(self, *a, **k):
    T.append(('listen() preamble, adapter spawned', _t.time()))
    _popen(self, *a, **k)
subprocess.Popen.__init__ = _timed_popen
_settrace = api._settrace
def _timed_settrace(*a, **k):
    T.append(('adapter up (endpoints received)', _t.time()))
    _settrace(*a, **k)
api._settrace = _timed_settrace
debugpy.listen(('127.0.0.1', 5690))
subprocess.Popen.__init__ = _popen
api._settrace = _settrace
T.append(('pydevd connected, listen() returns', _t.time()))
with open({out!r} + '.tmp', 'w') as f:
    f.write(repr(T))
import os as _os
_os.rename({out!r} + '.tmp', {out!r})
''')
os.chmod(payload, 0o644)
os.chmod(work, 0o777)  # the target may run as another user
begun = time.time()
sys.remote_exec(pid, payload)
while not os.path.exists(out):
    time.sleep(0.002)
with open(out) as f:
    marks = eval(f.read())
print('remote_exec -> script start: %4.0f ms' % ((marks[0] - begun) * 1000))
last = marks[0]
for what, at in marks[1:]:
    print('%-40s +%4.0f ms (at %4.0f)' % (what, (at - last) * 1000, (at - marks[0]) * 1000))
    last = at
for name in (out, payload):
    os.unlink(name)
os.rmdir(work)
