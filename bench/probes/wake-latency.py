# Time from sys.remote_exec to the injected script's start in an idle uvicorn worker, without and
# with the wake-up connection (the "62 → 10 ms" figure). Appended to the agent and run in the pod;
# it runs `pass` 60 times in PID 3 (WAKE_PID), so use the test cluster:
#
#   npm run cluster -- up --manifests test/manifests/fastapi-uvicorn-reload.yaml --state /tmp/wk
#   npm run build && cat build/src/agent/agent.py bench/probes/wake-latency.py |
#     KUBECONFIG=/tmp/wk/kubeconfig kubectl exec -i -n wand-uvicorn POD -- python3 -
import time, statistics
PID = int(__import__('os').environ.get('WAKE_PID', '3'))
N = int(__import__('os').environ.get('WAKE_N', '15'))
marks = {}
_real_injector, _real_wake = run_injector, wake
def timed_injector(target, path):
    _real_injector(target, path)
    if path != '/dev/null' and path != os.devnull:
        marks.setdefault('injected', time.perf_counter())
def capture(event):
    if event.get('event') == 'started':
        marks['started'] = time.perf_counter()
globals()['run_injector'] = timed_injector
globals()['emit'] = capture
out = {}
for round_ in range(2):
    for waking in [m == "wake" for m in os.environ.get("WAKE_MODES", "nowake,wake").split(",")]:
        globals()['wake'] = _real_wake if waking else (lambda pid: None)
        delays = []
        for i in range(N):
            marks.clear()
            r = op_exec({'pid': PID, 'code': 'pass', 'timeoutSeconds': 10})
            delays.append((marks['started'] - marks['injected']) * 1000)
            time.sleep(0.013 * (i % 7))  # spread the phase against the server's poll timeout
        out.setdefault('wake' if waking else 'no wake', []).extend(delays)
for k, v in out.items():
    v.sort()
    print('%-8s remote_exec->started ms: median %.1f  p10 %.1f  p90 %.1f  max %.1f  (n=%d)' % (k, statistics.median(v), v[len(v)//10], v[len(v)*9//10], v[-1], len(v)))
