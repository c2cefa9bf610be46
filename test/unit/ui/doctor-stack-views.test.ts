import { renderChecklist } from '../../../src/ui/checklist';
import { renderStack } from '../../../src/ui/stack-view';
import type { DoctorReport } from '../../../src/select/doctor';

describe('renderStack', () => {
  it('prints a py-spy dump style listing, main thread marked, innermost frame first', () => {
    const text = renderStack(
      {
        op: 'stack',
        pid: 1,
        threads: [
          { threadId: 1, isMain: true, frames: [{ function: 'wait', file: '/usr/lib/python3.14/threading.py', line: 373 }, { function: '<module>', file: '/app/app.py', line: 34 }] },
          { threadId: 7, isMain: false, frames: [] },
        ],
      },
      { pid: 1, command: 'python3 app.py', python: '3.14.0', pod: 'app-1', container: 'app' },
    );
    expect(text).toBe(
      [
        'Process 1: python3 app.py',
        'Python 3.14.0 — pod app-1, container app',
        '',
        'Thread 1 (main):',
        '  wait (/usr/lib/python3.14/threading.py:373)',
        '  <module> (/app/app.py:34)',
        '',
        'Thread 7:',
        '  (no Python frames)',
        '',
      ].join('\n'),
    );
  });
});

describe('renderChecklist', () => {
  const report: DoctorReport = {
    ok: false,
    namespace: 'shop',
    target: 'service/api',
    cluster: [
      { id: 'cluster', status: 'pass', message: 'kubectl reaches the cluster', remedy: null },
      { id: 'rbac-exec', status: 'fail', message: 'RBAC: you may not create pods/exec', remedy: 'ask for a Role' },
    ],
    pods: [
      {
        name: 'api-1',
        namespace: 'shop',
        container: 'api',
        checks: [],
        processes: [
          {
            pid: 8,
            command: 'python3 -m uvicorn main:app',
            role: 'worker',
            recommended: true,
            python: '3.14.0',
            checks: [
              { id: 'python', status: 'pass', message: 'Python 3.14.0', remedy: null },
              { id: 'listener', status: 'info', message: 'no debugpy listening yet', remedy: null },
            ],
          },
        ],
      },
    ],
  };

  it('one ✔/✘ line per check, remedies under failures, a summary', () => {
    expect(renderChecklist(report)).toBe(
      [
        'Cluster (namespace shop, service/api)',
        '  ✔ kubectl reaches the cluster',
        '  ✘ RBAC: you may not create pods/exec',
        '      → ask for a Role',
        '',
        'Pod api-1 (container api)',
        '  PID 8  worker ★  python3 -m uvicorn main:app',
        '    ✔ Python 3.14.0',
        '    • no debugpy listening yet',
        '',
        '1 problem blocks attaching.',
        '',
      ].join('\n'),
    );
  });
});
