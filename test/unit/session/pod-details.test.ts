/** What the pod prompt shows: metrics.k8s.io when served (one call), else the agent's samples. */
import type { FakeRule } from '../kube/fake-kubectl';
import { json } from '../kube/fake-kubectl';
import { gatherPodDetails } from '../../../src/session/pod-details';
import { proc } from '../select/helpers';
import { fakePods, pod, type FakePods } from './fake-pod';

const PROCESSES = [proc(1, 0, ['python3', 'app.py'], { cpuPercent: 2.5, rssBytes: 30 << 20 })];
const LIST = { op: 'list', agentPython: '3.14.0', capabilities: { uid: 0, sysPtrace: false, yamaPtraceScope: null }, processes: PROCESSES };
/** the agent's one-shot `list`, answered as the real agent does: one result line */
const LISTING: FakeRule = { when: ['exec', '--', 'python3', '-'], readStdin: true, steps: [{ stdout: `${JSON.stringify({ event: 'result', result: LIST })}\n` }] };
const METRICS_PATH = '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods';

describe('gatherPodDetails', () => {
  let pods: FakePods | undefined;
  afterEach(() => pods?.cleanup());

  async function gather(extra: FakeRule[]) {
    pods = fakePods({ 'web-1': pod('web-1', 'u1'), 'web-2': pod('web-2', 'u2') }, { processes: PROCESSES }, [...extra, LISTING]);
    const details = await gatherPodDetails(pods.kubectl, 'shop', [pod('web-1', 'u1'), pod('web-2', 'u2')], { agentSource: 'print(1)' });
    const raw = pods.fake.calls().filter((c) => c.includes('--raw'));
    return { details, raw, execs: pods.execs() };
  }

  it('takes CPU and memory from metrics.k8s.io in one call, the processes from one exec per pod', async () => {
    const metrics = {
      items: [
        { metadata: { name: 'web-1' }, containers: [{ name: 'app', usage: { cpu: '12m', memory: '40Mi' } }] },
        { metadata: { name: 'web-2' }, containers: [{ name: 'app', usage: { cpu: '250000000n', memory: '1Gi' } }] },
      ],
    };
    const { details, raw, execs } = await gather([{ when: ['get', '--raw', METRICS_PATH], steps: [json(metrics)] }]);
    expect(raw).toHaveLength(1);
    expect(execs).toHaveLength(2);
    expect(details.get('web-1')).toMatchObject({ restarts: 0, usage: { cpuMillis: 12, memoryBytes: 40 << 20, source: 'metrics' }, processes: 'python main' });
    expect(details.get('web-2')?.usage).toEqual({ cpuMillis: 250, memoryBytes: 2 ** 30, source: 'metrics' });
    expect(details.get('web-1')?.listed?.processes.map((p) => p.pid)).toEqual([1]);
  });

  it('falls back to the agent samples when the cluster serves no metrics', async () => {
    const { details } = await gather([
      { when: ['get', '--raw', METRICS_PATH], steps: [{ stderr: 'Error from server (NotFound): the server could not find the requested resource\n' }], exit: 1 },
    ]);
    expect(details.get('web-1')?.usage).toEqual({ cpuMillis: 25, memoryBytes: 30 << 20, source: 'agent' });
  });
});
