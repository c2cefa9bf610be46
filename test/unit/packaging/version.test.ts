/** --version and the name help and errors use when run as a kubectl plugin. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { version } from '../../../src/version';
import { buildParser, scriptNameFor, SCRIPT_NAME } from '../../../src/cli/main';

test("src/version.ts is package.json's version", () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { version: string };
  expect(version).toBe(pkg.version);
});

test('--version prints it', async () => {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await buildParser(['--version']).exitProcess(false).parseAsync();
    const printed = [...write.mock.calls.map((c) => String(c[0])), ...log.mock.calls.map((c) => c.join(' '))].join('');
    expect(printed.trim()).toBe(version);
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
});

describe('scriptNameFor: how help and errors name the command', () => {
  test.each([
    ['/home/u/.krew/bin/kubectl-wand', 'kubectl wand'],
    ['/usr/local/bin/kubectl-wand', 'kubectl wand'],
    ['C:\\krew\\bin\\kubectl-wand.exe', 'kubectl wand'],
    ['kubectl-wand', 'kubectl wand'],
    ['/x/kubectl-my_wand', 'kubectl my-wand'],
    ['/repo/build/src/cli/main.js', SCRIPT_NAME],
    [undefined, SCRIPT_NAME],
  ])('%s → %s', (invoked, expected) => {
    expect(scriptNameFor(invoked)).toBe(expected);
  });

  test('help uses it', async () => {
    const help = await buildParser([], scriptNameFor('/x/kubectl-wand')).getHelp();
    expect(help.split('\n')[0]).toBe('kubectl wand <command> [TARGET] [flags]');
    expect(help).toMatch(/kubectl wand pods/);
  });
});
