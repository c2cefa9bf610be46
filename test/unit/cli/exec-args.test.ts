import yargs from 'yargs';
import { codeSourceOf, execCommand } from '../../../src/cli/exec';
import { exitCodeOf, UsageError } from '../../../src/errors';

/** Parses like main.ts does, capturing the handler's arguments instead of running it. */
async function parsed(args: string[]): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> = {};
  await yargs(args)
    .command({ ...execCommand, handler: (a) => void (seen = a as unknown as Record<string, unknown>) })
    .strict()
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseAsync();
  return seen;
}

async function sourceOf(args: string[]) {
  return codeSourceOf((await parsed(['exec', ...args])) as Parameters<typeof codeSourceOf>[0]);
}

describe('exec code sources', () => {
  it.each([
    [['svc/api', '--code', 'print(1)'], { source: { kind: 'code', code: 'print(1)' }, target: 'svc/api' }],
    [['svc/api', '-f', 'x.py'], { source: { kind: 'file', path: 'x.py' }, target: 'svc/api' }],
    [['svc/api', '-'], { source: { kind: 'stdin' }, target: 'svc/api' }],
    [['-', '-l', 'app=api'], { source: { kind: 'stdin' }, target: undefined }],
    [['svc/api', '-f', '-'], { source: { kind: 'stdin' }, target: 'svc/api' }],
  ])('%j', async (args, expected) => {
    expect(await sourceOf(args)).toEqual(expected);
  });

  it.each([
    [['svc/api'], 'no code given'],
    [['svc/api', '--code', 'x', '-f', 'y.py'], 'the code was given more than once'],
    [['svc/api', '-', '--code', 'x'], 'the code was given more than once'],
    [['svc/api', 'extra'], 'unexpected argument "extra"'],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const error = await sourceOf(args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(message);
    expect(exitCodeOf(error)).toBe(2);
  });

  it('--timeout must be positive', async () => {
    await expect(parsed(['exec', 'svc/api', '--code', 'x', '--timeout', '0'])).rejects.toThrow('--timeout must be a positive number of seconds');
  });
});
