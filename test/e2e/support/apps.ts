/**
 * The end-to-end scenarios: for each app in test/manifests/, where it runs, which file and line to
 * break on, how to make it run that line, and what the local holds there. Every app serves
 * GET /work?x=N on 127.0.0.1:8000 (inside its pod) and binds `value = N * 2` before the line
 * marked `# BREAKPOINT`. manifests.selftest.test.ts checks this table against the YAML.
 */
import { join, resolve } from 'node:path';

export const MANIFEST_DIR = resolve(__dirname, '../../manifests');

export type TestImage =
  | 'wand-test/python:3.14'
  | 'wand-test/python:3.14-slim'
  | 'wand-test/python:3.13'
  | 'wand-test/python:3.11'
  | 'wand-test/python:3.12'
  | 'wand-test/python:3.10'
  | 'wand-test/python:3.9'
  | 'wand-test/python:3.8';

/** what attaching to the scenario's app should end in */
export type Outcome =
  | 'attach' // stops on the breakpoint
  | 'attach-ptrace' // stops on the breakpoint, injected by kubectl-wand's ptrace injector (3.9-3.13)
  | 'remote-debug-disabled' // the target refuses sys.remote_exec
  | 'python-too-old' // no sys.remote_exec, and older than the ptrace injector's 3.9
  | 'main-thread-blocked'; // remote_exec is queued but never runs

export interface Scenario {
  /** manifest file stem, plus `/workload` when a manifest holds several apps */
  id: string;
  manifest: string;
  namespace: string;
  service: string;
  /** `kind/name` as kubectl takes it */
  workload: string;
  /** labels of the workload's pods (for `kubectl get pods -l`) */
  podLabels: Readonly<Record<string, string>>;
  container: string;
  /** other containers of the same pod */
  sidecars: readonly string[];
  replicas: number;
  image: TestImage;
  /** uid the app runs as */
  uid: number;
  appFile: string;
  breakpointLine: number;
  port: 8000;
  /** path + query that makes the app run the breakpoint line */
  httpPath: string;
  /** the URL to request from inside the pod */
  url: string;
  /** evaluated at the breakpoint, and its expected `result` */
  evaluate: string;
  expectedValue: string;
  outcome: Outcome;
  /** Python processes that serve requests (each needs its own debugpy listener) */
  servingProcesses: number;
  /** whether the container's PID 1 itself serves (false: a reloader, arbiter, supervisor or shell) */
  pid1Serves: boolean;
  /** why the scenario cannot run on the emulator's Debian-built images, when it cannot */
  emulatorGap?: string;
}

const HTTP_PATH = '/work?x=21';

type ScenarioInput = Pick<Scenario, 'id' | 'namespace' | 'service' | 'workload' | 'container' | 'appFile' | 'breakpointLine'> &
  Partial<Omit<Scenario, 'manifest' | 'url' | 'podLabels'>> & { podLabels?: Record<string, string> };

function scenario(input: ScenarioInput): Scenario {
  const file = input.id.split('/')[0];
  return {
    manifest: join(MANIFEST_DIR, `${file}.yaml`),
    podLabels: input.podLabels ?? { app: input.workload.split('/')[1] ?? '' },
    sidecars: [],
    replicas: 1,
    image: 'wand-test/python:3.14',
    uid: 0,
    port: 8000,
    httpPath: HTTP_PATH,
    url: `http://127.0.0.1:8000${HTTP_PATH}`,
    evaluate: 'value',
    expectedValue: '42',
    outcome: 'attach',
    servingProcesses: 1,
    pid1Serves: false,
    ...input,
  };
}

/** One app of test/manifests/py-old.yaml: Python before 3.14, the app as PID 1. */
function pyOld(name: string, image: TestImage, appFile = '/app/app.py', breakpointLine = 8): Scenario {
  return scenario({
    id: `py-old/${name}`,
    namespace: 'wand-py-old',
    service: name,
    workload: `deployment/${name}`,
    container: 'app',
    image,
    appFile,
    breakpointLine,
    pid1Serves: true,
    outcome: 'attach-ptrace',
  });
}

export const SCENARIOS = {
  'fastapi-uvicorn-reload': scenario({
    id: 'fastapi-uvicorn-reload',
    namespace: 'wand-uvicorn',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    appFile: '/app/main.py',
    breakpointLine: 9,
  }),
  'fastapi-dev': scenario({
    id: 'fastapi-dev',
    namespace: 'wand-fastapi-dev',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    appFile: '/app/main.py',
    breakpointLine: 9,
  }),
  'flask-debug': scenario({
    id: 'flask-debug',
    namespace: 'wand-flask',
    service: 'web',
    workload: 'deployment/web',
    container: 'web',
    appFile: '/app/app.py',
    breakpointLine: 9,
  }),
  'django-runserver': scenario({
    id: 'django-runserver',
    namespace: 'wand-django',
    service: 'web',
    workload: 'deployment/web',
    container: 'web',
    appFile: '/app/wandsite.py',
    breakpointLine: 15,
  }),
  'gunicorn-2-workers': scenario({
    id: 'gunicorn-2-workers',
    namespace: 'wand-gunicorn',
    service: 'web',
    workload: 'deployment/web',
    container: 'web',
    appFile: '/app/app.py',
    breakpointLine: 9,
    servingProcesses: 2,
  }),
  'gunicorn-reload': scenario({
    id: 'gunicorn-reload',
    namespace: 'wand-gunicorn-reload',
    service: 'web',
    workload: 'deployment/web',
    container: 'web',
    appFile: '/app/app.py',
    breakpointLine: 9,
  }),
  'uvicorn-workers-2': scenario({
    id: 'uvicorn-workers-2',
    namespace: 'wand-uvicorn-workers',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    appFile: '/app/main.py',
    breakpointLine: 9,
    servingProcesses: 2,
  }),
  'sh-wrapper': scenario({
    id: 'sh-wrapper',
    namespace: 'wand-sh',
    service: 'app',
    workload: 'deployment/app',
    container: 'app',
    appFile: '/app/app.py',
    breakpointLine: 8,
  }),
  'slim-nonroot': scenario({
    id: 'slim-nonroot',
    namespace: 'wand-slim',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    image: 'wand-test/python:3.14-slim',
    uid: 1000,
    appFile: '/app/main.py',
    breakpointLine: 9,
  }),
  py313: scenario({
    id: 'py313',
    namespace: 'wand-py313',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    image: 'wand-test/python:3.13',
    appFile: '/app/main.py',
    breakpointLine: 7,
    pid1Serves: true,
    outcome: 'attach-ptrace',
  }),
  'py313/reload': scenario({
    id: 'py313/reload',
    namespace: 'wand-py313',
    service: 'api-reload',
    workload: 'deployment/api-reload',
    container: 'api',
    image: 'wand-test/python:3.13',
    appFile: '/app/main.py',
    breakpointLine: 7,
    outcome: 'attach-ptrace',
  }),
  'py313-pool': scenario({
    id: 'py313-pool',
    namespace: 'wand-py313-pool',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    image: 'wand-test/python:3.13',
    appFile: '/app/main.py',
    breakpointLine: 7,
    servingProcesses: 2,
    outcome: 'attach-ptrace',
  }),
  'py-old/py311': pyOld('py311', 'wand-test/python:3.11', '/app/flask_app.py'),
  'py-old/py312': pyOld('py312', 'wand-test/python:3.12'),
  'py-old/py310': pyOld('py310', 'wand-test/python:3.10'),
  'py-old/py39': pyOld('py39', 'wand-test/python:3.9'),
  py38: scenario({
    id: 'py38',
    namespace: 'wand-py38',
    service: 'py38',
    workload: 'deployment/py38',
    container: 'app',
    image: 'wand-test/python:3.8',
    appFile: '/app/app.py',
    breakpointLine: 8,
    pid1Serves: true,
    outcome: 'python-too-old',
  }),
  'remote-debug-disabled/env-off': scenario({
    id: 'remote-debug-disabled/env-off',
    namespace: 'wand-disabled',
    service: 'env-off',
    workload: 'deployment/env-off',
    container: 'app',
    appFile: '/app/app.py',
    breakpointLine: 8,
    pid1Serves: true,
    outcome: 'remote-debug-disabled',
  }),
  'remote-debug-disabled/flag-off': scenario({
    id: 'remote-debug-disabled/flag-off',
    namespace: 'wand-disabled',
    service: 'flag-off',
    workload: 'deployment/flag-off',
    container: 'app',
    appFile: '/app/app.py',
    breakpointLine: 8,
    pid1Serves: true,
    outcome: 'remote-debug-disabled',
  }),
  knative: scenario({
    id: 'knative',
    namespace: 'wand-knative',
    // an ExternalName Service: the pods are found through serving.knative.dev/service=hello
    service: 'hello',
    workload: 'deployment/hello-00001-deployment',
    podLabels: { 'serving.knative.dev/service': 'hello' },
    container: 'user-container',
    sidecars: ['queue-proxy'],
    appFile: '/app/main.py',
    breakpointLine: 9,
    pid1Serves: true,
  }),
  'two-container/annotated': scenario({
    id: 'two-container/annotated',
    namespace: 'wand-sidecar',
    service: 'annotated',
    workload: 'deployment/annotated',
    container: 'app',
    sidecars: ['sidecar'],
    appFile: '/app/app.py',
    breakpointLine: 8,
    pid1Serves: true,
  }),
  'two-container/plain': scenario({
    id: 'two-container/plain',
    namespace: 'wand-sidecar',
    service: 'plain',
    workload: 'deployment/plain',
    container: 'app',
    sidecars: ['sidecar'],
    appFile: '/app/app.py',
    breakpointLine: 8,
    pid1Serves: true,
  }),
  'blocked-main': scenario({
    id: 'blocked-main',
    namespace: 'wand-blocked',
    service: 'app',
    workload: 'deployment/app',
    container: 'app',
    appFile: '/app/app.py',
    breakpointLine: 9,
    pid1Serves: true,
    outcome: 'main-thread-blocked',
  }),
  'multi-replica': scenario({
    id: 'multi-replica',
    namespace: 'wand-replicas',
    service: 'api',
    workload: 'deployment/api',
    container: 'api',
    replicas: 3,
    appFile: '/app/main.py',
    breakpointLine: 9,
    pid1Serves: true,
  }),
  'many-pods': scenario({
    id: 'many-pods',
    namespace: 'wand-many',
    service: 'tiny',
    workload: 'deployment/tiny',
    container: 'app',
    replicas: 20,
    appFile: '/app/app.py',
    breakpointLine: 8,
    pid1Serves: true,
  }),
} as const satisfies Record<string, Scenario>;

export type ScenarioId = keyof typeof SCENARIOS;

export function allScenarios(): Scenario[] {
  return Object.values(SCENARIOS);
}

/** the scenarios a given cluster can run: the emulator lacks what Debian does not package */
export function scenariosFor(cluster: 'emulator' | 'kind'): Scenario[] {
  return allScenarios().filter((s) => cluster === 'kind' || s.emulatorGap === undefined);
}
