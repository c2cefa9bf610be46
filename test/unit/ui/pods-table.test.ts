import { formatCommand, oneLine } from '../../../src/ui/format';
import { renderProcessTable } from '../../../src/ui/pods-table';
import { podsDocument } from '../../../src/ui/pods-json';
import type { PodContainers } from '../../../src/session/discover-all';
import type { Pod } from '../../../src/kube/types';
import { classifyProcesses } from '../../../src/select/roles';
import { proc } from '../select/helpers';

describe('oneLine', () => {
  it('escapes newline, tab and carriage return as two characters', () => {
    expect(oneLine('import time\nwhile True:\n\ttime.sleep(1)\r')).toBe('import time\\nwhile True:\\n\\ttime.sleep(1)\\r');
  });
  it('escapes other control characters, terminal escape sequences included', () => {
    expect(oneLine('\x1b[31mred\x07 \x7f')).toBe('\\x1b[31mred\\x07 \\x7f');
  });
  it('leaves printable text, unicode included, alone', () => {
    expect(oneLine('uvicorn app:app — ★')).toBe('uvicorn app:app — ★');
  });
});

describe('formatCommand', () => {
  it('joins argv, escapes and cuts with an ellipsis', () => {
    expect(formatCommand(['python3', '-c', 'a\nb'])).toBe('python3 -c a\\nb');
    expect(formatCommand(['python3', '-c', 'x'.repeat(20)], 12)).toBe('python3 -c …');
  });
});

const POD = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'sidecar' }, { name: 'app' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
} as Pod;

function listing(): PodContainers {
  const sidecar = classifyProcesses([proc(1, 0, ['python3', '-c', 'import time\nwhile True:\n\ttime.sleep(1)'])]).map((p) => ({ ...p, recommended: false, why: null }));
  const app = classifyProcesses([proc(1, 0, ['python3', 'app.py'])]);
  return {
    pod: POD,
    defaultContainer: 'app',
    note: null,
    containers: [
      { container: 'sidecar', processes: sidecar, error: null },
      { container: 'app', processes: app, error: null },
    ],
    error: null,
  };
}

describe('renderProcessTable', () => {
  it('lists every container with a CONTAINER column, the default container first, each process on one line', () => {
    const lines = renderProcessTable([listing()], false).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^POD\s+CONTAINER\s+PID\s+ROLE/);
    expect(lines[1]).toMatch(/^web-1\s+app\s+1\s.*python3 app\.py/);
    expect(lines[2]).toMatch(/^web-1\s+sidecar\s+1\s.*python3 -c import time\\nwhile True:\\n\\ttime\.sleep\(1\)/);
  });
});

describe('podsDocument', () => {
  it('gives each process its container; the pod keeps the container debug would use', () => {
    const [pod] = podsDocument([POD], [listing()], true).pods;
    expect(pod!.container).toBe('app');
    expect(pod!.processes!.map((p) => [p.container, p.command])).toEqual([
      ['sidecar', 'python3 -c import time\nwhile True:\n\ttime.sleep(1)'],
      ['app', 'python3 app.py'],
    ]);
    expect(pod!.error).toBeNull();
  });

  it('reports the error only when no container could be listed', () => {
    const failed = { ...listing(), error: new (class extends Error {})('boom') } as unknown as PodContainers;
    const [pod] = podsDocument([POD], [failed], true).pods;
    expect(pod!.processes).toBeNull();
    expect(pod!.error?.message).toBe('boom');
  });
});
