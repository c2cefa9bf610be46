/** Test helper: a scenario for fixtures/fake-kubectl.js and what it recorded. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

export interface FakeStep {
  stdout?: string;
  stderr?: string;
  delayMs?: number;
}

export interface FakeRule {
  /** tokens that must all appear in argv, in this order */
  when: string[];
  steps?: FakeStep[];
  exit?: number;
  /** stay alive after the steps until killed */
  hang?: boolean;
  /** wait for stdin's end before the steps */
  readStdin?: boolean;
  /** save stdin to this file, relative to the fake's directory (see file()); implies readStdin */
  stdinFile?: string;
  /** run the command after `--` on this machine, as if exec'd into a pod */
  runLocal?: boolean;
  /** append the fake's pid to this file (relative to the fake's directory, see file()) */
  pidFile?: string;
}

export interface FakeKubectl {
  /** environment for createKubectl({...}, { env }) */
  env: NodeJS.ProcessEnv;
  /** argv (after the binary) of every call so far */
  calls(): string[][];
  /** a path in the fake's scratch directory */
  file(name: string): string;
  /** replaces the rules for the calls from now on */
  setRules(rules: FakeRule[]): void;
  cleanup(): void;
}

export const FAKE_KUBECTL = path.join(__dirname, 'fixtures', 'fake-kubectl.js');

export function fakeKubectl(rules: FakeRule[]): FakeKubectl {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-kubectl-'));
  const scenario = path.join(dir, 'scenario.json');
  const log = path.join(dir, 'calls.jsonl');
  writeFileSync(scenario, JSON.stringify({ rules }));
  return {
    env: { ...process.env, KUBECTL_PATH: FAKE_KUBECTL, FAKE_KUBECTL_SCENARIO: scenario, FAKE_KUBECTL_LOG: log },
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as string[])
        : [],
    file: (name) => path.join(dir, name),
    setRules: (next) => writeFileSync(scenario, JSON.stringify({ rules: next })),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `kubectl get -o json` output for an object. */
export function json(value: unknown): FakeStep {
  return { stdout: `${JSON.stringify(value, null, 4)}\n` };
}
