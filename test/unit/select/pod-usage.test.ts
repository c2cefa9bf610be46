import { formatMillicores, parseQuantity, summarizeProcesses, usageFromMetrics, usageFromProcesses } from '../../../src/select/pod-usage';
import { classifyProcesses } from '../../../src/select/roles';
import { proc, SPAWN, TRACKER } from './helpers';

describe('parseQuantity', () => {
  it.each([
    ['250m', 0.25],
    ['1234567n', 0.001234567],
    ['2', 2],
    ['1.5', 1.5],
    ['500u', 0.0005],
    ['20Mi', 20 * 2 ** 20],
    ['123Ki', 123 * 1024],
    ['1G', 1e9],
    ['1e3', 1000],
    ['12345', 12345],
  ])('%s → %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 12);
  });
  it.each(['', 'abc', '5mi', '1.2.3', 'Mi'])('%j is malformed', (text) => {
    expect(parseQuantity(text)).toBeNaN();
  });
});

describe('usage', () => {
  const metrics = {
    metadata: { name: 'web-1' },
    containers: [
      { name: 'app', usage: { cpu: '5000000n', memory: '20480Ki' } },
      { name: 'sidecar', usage: { cpu: '1m', memory: '4Mi' } },
    ],
  };
  it('sums a PodMetrics like kubectl top pod, or takes one container', () => {
    expect(usageFromMetrics(metrics)).toEqual({ cpuMillis: 6, memoryBytes: 24 * 2 ** 20, source: 'metrics' });
    expect(usageFromMetrics(metrics, 'sidecar')).toEqual({ cpuMillis: 1, memoryBytes: 4 * 2 ** 20, source: 'metrics' });
    expect(usageFromMetrics(metrics, 'nope')).toBeNull();
    expect(usageFromMetrics({ metadata: { name: 'x' }, containers: [{ name: 'a', usage: { cpu: 'bad' } }] })).toBeNull();
  });
  it('falls back to the agent samples: percent of one core → millicores, RSS summed', () => {
    expect(usageFromProcesses([{ cpuPercent: 12.5, rssBytes: 100 }, { cpuPercent: 0.04, rssBytes: 50 }])).toEqual({ cpuMillis: 125, memoryBytes: 150, source: 'agent' });
    expect(formatMillicores(126.4)).toBe('126m');
  });
});

describe('summarizeProcesses', () => {
  it('names the server and what debug would attach to', () => {
    const reload = classifyProcesses([
      proc(1, 0, ['python3', '-m', 'uvicorn', 'main:app', '--reload']),
      proc(2, 1, TRACKER),
      proc(3, 1, SPAWN),
    ]);
    expect(summarizeProcesses(reload)).toBe('uvicorn --reload worker');
  });
  it('counts several workers', () => {
    const gunicorn = classifyProcesses([
      proc(1, 0, ['/usr/local/bin/python3', '/usr/local/bin/gunicorn', '-w', '2', 'app:app']),
      proc(7, 1, ['/usr/local/bin/python3', '/usr/local/bin/gunicorn', '-w', '2', 'app:app']),
      proc(8, 1, ['/usr/local/bin/python3', '/usr/local/bin/gunicorn', '-w', '2', 'app:app']),
    ]);
    expect(summarizeProcesses(gunicorn)).toBe('gunicorn 2 workers');
  });
  it('says when nothing runs Python', () => {
    expect(summarizeProcesses(classifyProcesses([proc(1, 0, ['nginx'])]))).toBe('no Python');
  });
});
