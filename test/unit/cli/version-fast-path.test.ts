/** `kubectl-wand --version` is answered before yargs loads: it must print what yargs would. */
import { buildParser, main } from '../../../src/cli/main';

/** What a run writes to stdout (yargs prints through console.log, main through process.stdout). */
async function stdoutOf(run: () => Promise<unknown>): Promise<{ printed: string; result: unknown }> {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const result = await run();
    const printed = [...write.mock.calls.map((c) => String(c[0])), ...log.mock.calls.map((c) => `${c.join(' ')}\n`)].join('');
    return { printed, result };
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
}

test('prints exactly what yargs prints for --version, and exits 0', async () => {
  const byYargs = await stdoutOf(() => buildParser(['--version']).exitProcess(false).parseAsync());
  const fast = await stdoutOf(() => main(['/usr/bin/node', '/x/kubectl-wand', '--version']));
  expect(fast).toEqual({ printed: byYargs.printed, result: 0 });
});

test('does not load yargs (nor any command implementation) for --version alone', async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock('yargs', () => {
      throw new Error('yargs was loaded');
    });
    const isolated = (await import('../../../src/cli/main')) as typeof import('../../../src/cli/main');
    const fast = await stdoutOf(() => isolated.main(['/usr/bin/node', '/x/kubectl-wand', '--version']));
    expect(fast.result).toBe(0);
    // anything else goes through yargs (here: the mock that refuses to load, reported as an error)
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await isolated.main(['/usr/bin/node', '/x/kubectl-wand', '--version', '--help'])).toBe(1);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch('yargs was loaded');
    } finally {
      stderr.mockRestore();
    }
  });
});
