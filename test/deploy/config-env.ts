import { AppConfig } from '../../src/config/app-config';

/**
 * The environment variables the app reads: every name `AppConfig.fromEnv` asks its environment for,
 * recorded while it reads an empty one (all defaults). Derived rather than listed, so a setting
 * added to the config is known here without a second list to keep in step.
 */
export function configEnvNames(): ReadonlySet<string> {
  const names = new Set<string>();
  const recording = new Proxy<Record<string, string | undefined>>({}, {
    get: (_target, name) => {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  AppConfig.fromEnv(recording);
  return names;
}

/** Milliseconds in a compose / Go duration such as "15s", "1m30s" or "500ms". */
export function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: "${value}"`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}
