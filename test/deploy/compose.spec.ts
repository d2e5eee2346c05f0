import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { AppConfig } from '../../src/config/app-config';
import { nginxTemplate } from '../../tools/stack/nginx';
import { configEnvNames, durationMs } from './config-env';

const DOCKER = join(__dirname, '..', '..', 'docker');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: unknown;
  stop_grace_period?: string;
  volumes?: string[];
  ports?: string[];
  networks?: Record<string, { ipv4_address?: string }>;
}

interface Compose {
  services: Record<string, Service>;
  networks: { default: { ipam: { config: { subnet: string; ip_range?: string }[] } } };
}

// YAML merge keys (`<<: *app`) are how compose files share settings; yaml 2 needs them asked for.
const compose = parse(readFileSync(join(DOCKER, 'compose.yml'), 'utf8'), { merge: true }) as Compose;
const { services } = compose;
const APPS = ['app-1', 'app-2'];
const envOf = (name: string): Record<string, string> => services[name].environment ?? {};

/** Where a bind mount `host:container[:mode]` of service `name` comes from (resolved against docker/) and goes to. */
function mounts(name: string): { host: string; container: string }[] {
  return (services[name].volumes ?? [])
    .map((volume) => volume.split(':'))
    .filter(([host]) => host.startsWith('.') || host.startsWith('/'))
    .map(([host, container]) => ({ host: resolve(DOCKER, host), container }));
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4ToInt(base) / size) * size;
  return ipv4ToInt(address) >= start && ipv4ToInt(address) < start + size;
}

describe('docker/compose.yml', () => {
  it('runs PostgreSQL, Redis, a migration step, two instances of the image, nginx, Prometheus, Jaeger and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['app-1', 'app-2', 'grafana', 'jaeger', 'migrate', 'nginx', 'postgres', 'prometheus', 'redis']);
    for (const name of [...APPS, 'migrate']) {
      expect(services[name].build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(services[name].image).toBe(services.migrate.image);
    }
    expect(services.nginx.image).toBe('nginx:1.27');
  });

  it('migrates once, before the instances start, and the instances do not migrate themselves', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/src/migrate.cli.js', 'run']);
    expect(services.migrate.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(existsSync(join(DOCKER, '..', 'src', 'migrate.cli.ts'))).toBe(true);
    for (const app of APPS) {
      expect(services[app].depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
      expect(AppConfig.fromEnv(envOf(app)).migrationsRun).toBe(false);
    }
  });

  it('gives every process only settings the app knows, valid together, shared by both instances', () => {
    const known = configEnvNames();
    expect(known.has('DATABASE_URL')).toBe(true);
    for (const name of [...APPS, 'migrate']) {
      expect(Object.keys(envOf(name)).filter((key) => !known.has(key))).toEqual([]);
      expect(() => AppConfig.fromEnv(envOf(name))).not.toThrow();
    }
    expect(envOf('app-2')).toEqual(envOf('app-1'));
    expect(AppConfig.fromEnv(envOf('app-1')).cursorSecretGenerated).toBe(false);
  });

  it('lets an instance drain: the image healthcheck (readiness) is kept and stop_grace_period exceeds SHUTDOWN_TIMEOUT_MS', () => {
    for (const app of APPS) {
      const config = AppConfig.fromEnv(envOf(app));
      // No healthcheck here: the Dockerfile's HEALTHCHECK applies, and nginx waits for it.
      expect(services[app].healthcheck).toBeUndefined();
      expect(durationMs(services[app].stop_grace_period ?? '10s')).toBeGreaterThan(config.shutdownTimeoutMs);
      expect(services.nginx.depends_on).toMatchObject({ [app]: { condition: 'service_healthy' } });
    }
  });

  it('trusts X-Forwarded-For from nginx alone: TRUST_PROXY is the fixed address nginx gets', () => {
    const nginxAddress = services.nginx.networks?.default.ipv4_address ?? '';
    expect(isIP(nginxAddress)).toBe(4);
    const [network] = compose.networks.default.ipam.config;
    expect(inCidr(nginxAddress, network.subnet)).toBe(true);
    // The others are given addresses from ip_range only, so none can take nginx's.
    expect(network.ip_range).toBeDefined();
    expect(inCidr(nginxAddress, network.ip_range!)).toBe(false);
    for (const app of APPS) expect(AppConfig.fromEnv(envOf(app)).trustProxy).toEqual([nginxAddress]);
  });

  it("runs nginx on the template `npm run stack:local` uses, with every variable it needs pointing at the instances", () => {
    // The very file tools/stack renders for `npm run stack:local` and the nginx e2e test.
    expect(mounts('nginx')).toEqual([{ host: nginxTemplate(), container: '/etc/nginx/templates/app.conf.template' }]);
    const port = AppConfig.fromEnv(envOf('app-1')).port;
    const env = envOf('nginx');
    expect(env).toMatchObject({ APP_1_ADDR: `app-1:${port}`, APP_2_ADDR: `app-2:${port}` });
    expect(services.nginx.ports).toEqual([`${env.NGINX_PORT}:${env.NGINX_PORT}`]);
    const template = readFileSync(nginxTemplate(), 'utf8');
    // The image's envsubst replaces only variables set in the environment: one left unset would
    // reach nginx as a literal "${...}".
    const used = new Set([...template.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...used].filter((name) => !(name in env))).toEqual([]);
    expect(used).toEqual(new Set(['APP_1_ADDR', 'APP_2_ADDR', 'NGINX_PORT']));
  });

  it('has Prometheus load the alert rules and scrape both instances', () => {
    const volumes = mounts('prometheus');
    const configMount = volumes.find((v) => v.container === '/etc/prometheus/prometheus.yml');
    expect(configMount?.host).toBe(join(DOCKER, 'prometheus', 'prometheus.yml'));
    const config = parse(readFileSync(configMount!.host, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    // Rule files are resolved against the config file's folder inside the container.
    const ruleFiles = config.rule_files.map((file) => posix.resolve('/etc/prometheus', file));
    expect(ruleFiles).toContain('/etc/prometheus/alerts.yml');
    expect(volumes).toContainEqual({ host: join(DOCKER, 'prometheus', 'alerts.yml'), container: '/etc/prometheus/alerts.yml' });
    const port = AppConfig.fromEnv(envOf('app-1')).port;
    const [job] = config.scrape_configs;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs.flatMap((s) => s.targets).sort()).toEqual(APPS.map((app) => `${app}:${port}`));
  });

  it('traces the instances to Jaeger over OTLP/HTTP, and Prometheus keeps the exemplars that name those traces', () => {
    const config = AppConfig.fromEnv(envOf('app-1'));
    expect(config.telemetry.traces).toBe(true);
    expect(envOf('app-1').OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(services.jaeger.image).toMatch(/^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/);
    // The image's own flags, which a command replaces, are kept beside the feature flag.
    expect(services.prometheus.command).toEqual([
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--enable-feature=exemplar-storage',
    ]);
  });

  it('provisions Grafana: the datasources point at the Prometheus and Jaeger services, exemplars link to Jaeger, the dashboards folder is where the provider looks', () => {
    const volumes = mounts('grafana');
    expect(volumes).toContainEqual({ host: join(DOCKER, 'grafana', 'provisioning'), container: '/etc/grafana/provisioning' });
    const provisioning = join(DOCKER, 'grafana', 'provisioning');
    type Datasource = { uid: string; url: string; jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] } };
    const datasources = (parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Datasource[] }).datasources;
    expect(datasources.map((d) => d.url)).toEqual(['http://prometheus:9090', 'http://jaeger:16686']);
    const jaeger = datasources.find((d) => d.url === 'http://jaeger:16686');
    expect(datasources[0].jsonData?.exemplarTraceIdDestinations).toEqual([{ name: 'trace_id', datasourceUid: jaeger?.uid }]);
    expect(services.prometheus.ports).toEqual(['9090:9090']);
    const providers = parse(readFileSync(join(provisioning, 'dashboards', 'dashboards.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const dashboardsMount = volumes.find((v) => v.container === providers.providers[0].options.path);
    expect(dashboardsMount?.host).toBe(join(DOCKER, 'grafana', 'dashboards'));
    expect(existsSync(join(dashboardsMount!.host, 'projects-backend.json'))).toBe(true);
  });

  it('mounts only files that exist', () => {
    const missing = Object.keys(services).flatMap((name) => mounts(name).filter((m) => !existsSync(m.host)).map((m) => `${name}: ${m.host}`));
    expect(missing).toEqual([]);
  });
});
