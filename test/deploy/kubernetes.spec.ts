import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { AppConfig } from '../../src/config/app-config';
import { ALERTS_FILE, renderPrometheusRule, RULE_FILE } from '../../tools/k8s-rules';
import { bootApp } from '../support/test-app';
import { configEnvNames } from './config-env';
import { ofKeyword, parseStages } from './dockerfile';

const ROOT = join(__dirname, '..', '..');
const BASE = join(ROOT, 'deploy', 'kubernetes');

interface Validatable {
  validate(): void;
}
type Manifest = Record<string, unknown> & { apiVersion: string; kind: string };

// Every kind the base may hold, by apiVersion/kind: a resource of any other kind fails the check.
const MODELS: Record<string, (data: never) => Validatable> = {
  'v1/ConfigMap': (data) => new ConfigMap(data),
  'v1/Secret': (data) => new Secret(data),
  'v1/Service': (data) => new Service(data),
  'apps/v1/Deployment': (data) => new Deployment(data),
  'batch/v1/Job': (data) => new Job(data),
  'policy/v1/PodDisruptionBudget': (data) => new PodDisruptionBudget(data),
  'autoscaling/v2/HorizontalPodAutoscaler': (data) => new HorizontalPodAutoscaler(data),
  'monitoring.coreos.com/v1/ServiceMonitor': (data) => new ServiceMonitor(data),
  'monitoring.coreos.com/v1/PrometheusRule': (data) => new PrometheusRule(data),
};

const kustomization = parseAllDocuments(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'))[0].toJS() as { resources: string[] };
const manifests = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(BASE, file), 'utf8')).map((doc) => ({ file, object: doc.toJS() as Manifest })),
);

function only(kind: string): Manifest {
  const found = manifests.filter((m) => m.object.kind === kind);
  expect(found).toHaveLength(1);
  return found[0].object;
}

const deployment = new Deployment(only('Deployment') as never);
const pod = deployment.spec!.template.spec!;
const container = pod.containers[0];
const configMap = new ConfigMap(only('ConfigMap') as never);
const secret = new Secret(only('Secret') as never);
/** The pods' environment as the kubelet assembles it: envFrom in order, then env on top. */
const podEnv: Record<string, string> = {
  ...configMap.data,
  ...secret.stringData,
  ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])),
};
const config = AppConfig.fromEnv(podEnv);

describe('deploy/kubernetes (Kustomize base)', () => {
  it('lists every manifest of the folder in kustomization.yaml', () => {
    const files = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('holds only resources that are valid against the Kubernetes and Prometheus Operator schemas', () => {
    for (const { file, object } of manifests) {
      const model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect({ file, kind: `${object.apiVersion}/${object.kind}`, known: model !== undefined }).toMatchObject({ known: true });
      expect(() => model(object as never).validate()).not.toThrow();
    }
    // The check has teeth: a port given as text is refused.
    const broken = structuredClone(only('Deployment')) as unknown as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort must be integer/);
  });

  it('configures the pods with settings the app knows and accepts, migrations left to the Job', () => {
    const known = configEnvNames();
    expect(Object.keys(podEnv).filter((name) => !known.has(name))).toEqual([]);
    expect(config.migrationsRun).toBe(false);
    expect(config.nodeEnv).toBe('production');
    expect(config.databaseUrl).toBeDefined();
    expect(config.cursorSecretGenerated).toBe(false);
    // The Secret's values are placeholders, and say so.
    for (const value of Object.values(secret.stringData ?? {})) expect(value).toContain('CHANGE-ME');
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata!.name } }, { secretRef: { name: secret.metadata!.name } }]);
  });

  it('probes the real health routes on the port the app listens on', async () => {
    expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      expect(ports.get(String(probe?.httpGet?.port))).toBe(config.port);
    }
    // The startup probe allows a slow boot before liveness may restart the pod.
    const startup = container.startupProbe!;
    expect((startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3)).toBeGreaterThanOrEqual(60);

    const sut = await bootApp();
    try {
      const paths = [container.startupProbe, container.livenessProbe, container.readinessProbe].map((p) => p!.httpGet!.path!);
      for (const url of [...new Set(paths), new ServiceMonitor(only('ServiceMonitor') as never).spec.endpoints![0].path!]) {
        const res = await sut.app.inject({ method: 'GET', url });
        expect({ url, status: res.statusCode }).toEqual({ url, status: 200 });
      }
    } finally {
      await sut.close();
    }
  });

  it('shuts down within the grace period: preStop sleeps SHUTDOWN_GRACE_MS, termination allows SHUTDOWN_TIMEOUT_MS after it', () => {
    const sleepSeconds = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(sleepSeconds).toBeGreaterThan(0);
    expect(sleepSeconds * 1000).toBe(config.shutdownGraceMs);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(sleepSeconds + config.shutdownTimeoutMs / 1000);
  });

  it('rolls out without losing capacity, with resources and a non-root read-only container', () => {
    expect(deployment.spec!.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(container.resources?.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(container.resources?.limits?.memory).toBeDefined();

    const [runtime] = parseStages(readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8')).slice(-1);
    const imageUid = Number((ofKeyword(runtime, 'USER')[0].getArgumentsContent() ?? '').split(':')[0]);
    for (const spec of [pod, new Job(only('Job') as never).spec!.template.spec!]) {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUid });
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      }
    }
    expect(imageUid).toBeGreaterThan(0);
  });

  it('points the Service, PodDisruptionBudget, autoscaler and ServiceMonitor at the Deployment', () => {
    const podLabels = deployment.spec!.template.metadata!.labels!;
    expect(deployment.spec!.selector.matchLabels).toEqual(podLabels);

    const service = new Service(only('Service') as never);
    expect(podLabels).toMatchObject(service.spec!.selector!);
    const portNames = (container.ports ?? []).map((p) => p.name);
    for (const port of service.spec!.ports!) expect(portNames).toContain(port.targetPort);

    const pdb = new PodDisruptionBudget(only('PodDisruptionBudget') as never);
    expect(podLabels).toMatchObject(pdb.spec!.selector!.matchLabels!);

    const hpa = new HorizontalPodAutoscaler(only('HorizontalPodAutoscaler') as never);
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
    expect(hpa.spec!.metrics).toContainEqual({ type: 'Resource', resource: { name: 'cpu', target: expect.objectContaining({ type: 'Utilization' }) } });
    // A node drain can always evict one pod without breaking the budget.
    expect(hpa.spec!.minReplicas).toBeGreaterThan(Number(pdb.spec!.minAvailable));

    const monitor = new ServiceMonitor(only('ServiceMonitor') as never);
    expect(service.metadata!.labels).toMatchObject(monitor.spec.selector.matchLabels!);
    expect(service.spec!.ports!.map((p) => p.name)).toContain(monitor.spec.endpoints![0].port);
  });

  it('migrates in a Job: the same image and settings, the migrate CLI, no restart in place', () => {
    const job = new Job(only('Job') as never);
    const spec = job.spec!.template.spec!;
    const [migrate] = spec.containers;
    expect(migrate.image).toBe(container.image);
    // args, not command: the image's entrypoint (tini) stays in front.
    expect(migrate.command).toBeUndefined();
    expect(migrate.args).toEqual(['node', 'dist/src/migrate.cli.js', 'run']);
    expect(migrate.envFrom).toEqual(container.envFrom);
    expect(spec.restartPolicy).toBe('Never');
  });

  it('carries the alert rules of docker/prometheus/alerts.yml as generated by `npm run k8s:rules`', () => {
    const committed = readFileSync(join(ROOT, RULE_FILE), 'utf8');
    const generated = renderPrometheusRule(readFileSync(join(ROOT, ALERTS_FILE), 'utf8'));
    expect(committed).toBe(generated);
    const rule = new PrometheusRule(only('PrometheusRule') as never);
    expect(rule.spec.groups!.flatMap((g) => g.rules!.map((r) => r.alert))).toContain('DbPoolSaturated');
  });

  it('builds with kustomize, the image tag set from kustomization.yaml', () => {
    let kubectl: string;
    try {
      kubectl = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
    } catch {
      console.log('SKIPPED: kubectl not found (the schema checks above still ran)');
      return;
    }
    const built = parseAllDocuments(execFileSync(kubectl, ['kustomize', BASE], { encoding: 'utf8' })).map((d) => d.toJS() as Manifest);
    expect(built.map((m) => m.kind).sort()).toEqual(manifests.map((m) => m.object.kind).sort());
    const images = JSON.stringify(built).match(/"image":"[^"]+"/g);
    expect(new Set(images)).toEqual(new Set(['"image":"projects-backend:0.1.0"']));
  });
});
