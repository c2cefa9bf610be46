/** The manifests parse, and apps.ts says the truth about them. No cluster needed. */
import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { allScenarios, MANIFEST_DIR, type Scenario } from './apps';
import { configMapData, effectiveUser, readManifest, services, workloads, type KubeObject } from './manifests';

const files = readdirSync(MANIFEST_DIR).filter((f) => f.endsWith('.yaml'));

describe('test/manifests', () => {
  it.each(files)('%s parses, has one Namespace, and keeps every object in it', (file) => {
    const objects = readManifest(join(MANIFEST_DIR, file));
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    expect(namespaces).toHaveLength(1);
    expect(namespaces[0]?.metadata.labels).toEqual({ 'wand-test': 'scenario' });
    const ns = namespaces[0]?.metadata.name;
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) expect(`${o.kind}/${o.metadata.namespace}`).toBe(`${o.kind}/${ns}`);
  });

  it.each(files)('%s: every Service port is 8000 and no container has probes', (file) => {
    const objects = readManifest(join(MANIFEST_DIR, file));
    for (const svc of services(objects)) expect(svc.spec.ports.map((p) => p.port)).toEqual([8000]);
    for (const w of workloads(objects)) {
      for (const c of w.spec.containers) {
        const raw = c as unknown as Record<string, unknown>;
        expect([raw.readinessProbe, raw.livenessProbe, raw.startupProbe]).toEqual([undefined, undefined, undefined]);
      }
    }
  });

  it('every manifest is covered by a scenario', () => {
    const covered = new Set(allScenarios().map((s) => s.manifest));
    expect(files.map((f) => join(MANIFEST_DIR, f)).filter((f) => !covered.has(f))).toEqual([]);
  });
});

function scenarioObjects(s: Scenario): KubeObject[] {
  return readManifest(s.manifest);
}

describe.each(allScenarios().map((s) => [s.id, s] as const))('scenario %s', (_id, s) => {
  const objects = scenarioObjects(s);
  const [kind, name] = s.workload.split('/');
  const workload = workloads(objects).find((w) => w.kind.toLowerCase() === kind && w.name === name);

  it('has its workload, container, sidecars, image, replicas and user', () => {
    expect(workload).toBeDefined();
    if (!workload) return;
    expect(workload.namespace).toBe(s.namespace);
    expect(workload.replicas).toBe(s.replicas);
    expect(workload.labels).toMatchObject(s.podLabels);
    const app = workload.spec.containers.find((c) => c.name === s.container);
    expect(app?.image).toBe(s.image);
    expect(workload.spec.containers.map((c) => c.name).filter((n) => n !== s.container)).toEqual([...s.sidecars]);
    if (app) expect(effectiveUser(workload.spec, app).uid).toBe(s.uid);
  });

  it('has its Service', () => {
    const svc = services(objects).find((x) => x.metadata.name === s.service);
    expect(svc).toBeDefined();
    if (svc?.spec.type === 'ExternalName') {
      expect(workload?.labels).toMatchObject(s.podLabels);
    } else {
      expect(workload?.labels).toMatchObject(svc?.spec.selector ?? { missing: 'selector' });
    }
  });

  it('mounts the app file from a ConfigMap, with the breakpoint line where apps.ts says', () => {
    const app = workload?.spec.containers.find((c) => c.name === s.container);
    const mount = app?.volumeMounts?.find((m) => s.appFile.startsWith(`${m.mountPath}/`));
    expect(mount).toBeDefined();
    expect(app?.workingDir).toBe(mount?.mountPath);
    const volume = workload?.spec.volumes?.find((v) => v.name === mount?.name);
    const data = configMapData(objects, s.namespace, volume?.configMap?.name ?? '');
    const source = data[posix.relative(mount?.mountPath ?? '/', s.appFile)] ?? '';
    const lines = source.split('\n');
    expect(lines[s.breakpointLine - 1]).toContain('# BREAKPOINT');
    expect(lines[s.breakpointLine - 2]).toMatch(new RegExp(`^\\s*${s.evaluate} = `));
    expect(lines.filter((l) => l.includes('# BREAKPOINT'))).toHaveLength(1);
  });
});
