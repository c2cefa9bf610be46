"""CPU of one agent `list` inside a pod, beyond Python's own start (the "list: 57 → 30 ms CPU in
the pod" figure). Runs the assembled agent (build/src/agent/agent.py: npm run build) through `kubectl exec -i … python3 -` N times, as
`pods --with-pids` does, with the CPU sampling off, and prints the medians:

    KUBECONFIG=… python3 bench/probes/agent-list-cost.py NAMESPACE POD [N [AGENT]]

N defaults to 15; AGENT (default build/src/agent/agent.py) may be an older agent to compare, e.g. from
`git show REV:src/agent/agent.py > /tmp/old-agent.py` (before the split) or a build of REV.
"""
import base64
import json
import os
import statistics
import subprocess
import sys
import time

namespace, pod = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 15
agent_path = sys.argv[4] if len(sys.argv) > 4 else os.path.join(os.path.dirname(__file__), '..', '..', 'build', 'src', 'agent', 'agent.py')
agent = open(agent_path, 'rb').read()
request = base64.b64encode(json.dumps({'op': 'list', 'sampleSeconds': 0}).encode()).decode()
REPORT = ('\nimport atexit, resource, sys\n'
          'def _cpu(who): u = resource.getrusage(who); return (u.ru_utime + u.ru_stime) * 1000\n'
          'atexit.register(lambda: sys.stderr.write("CPU %.1f %.1f\\n" % (_cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN))))\n')
BARE = REPORT.encode()
LIST = agent + REPORT.encode() + ('main("%s")\n' % request).encode()


def cpu_ms(program):
    started = time.monotonic()
    done = subprocess.run(['kubectl', 'exec', '-i', '-n', namespace, pod, '--', 'python3', '-'],
                          input=program, capture_output=True, check=True)
    wall = (time.monotonic() - started) * 1000
    line = [l for l in done.stderr.decode().splitlines() if l.startswith('CPU ')][-1]
    own, children = map(float, line.split()[1:])
    return own + children, wall


bare = [cpu_ms(BARE) for _ in range(runs)]
listed = [cpu_ms(LIST) for _ in range(runs)]
median = lambda xs, i: statistics.median(x[i] for x in xs)
print('python3 alone: %.1f ms CPU in the pod' % median(bare, 0))
print('agent list:    %.1f ms CPU in the pod (children included), %.0f ms per exec' % (median(listed, 0), median(listed, 1)))
print('agent beyond Python itself: %.1f ms CPU' % (median(listed, 0) - median(bare, 0)))
