/**
 * Small typed readers for environment variables. Every reader records a problem instead of
 * throwing, so that start-up reports all bad variables at once, each with what it expects.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** Raw value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string, opts: { maxLength?: number } = {}): string {
    const value = this.raw(name) ?? fallback;
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      this.fail(name, `at most ${opts.maxLength} characters`, value);
    }
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.fail(name, `an integer between ${min} and ${max}`, value);
      return fallback;
    }
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      this.fail(name, `an integer between ${min} and ${max}`, value);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    this.fail(name, 'true or false', value);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(name, `one of ${allowed.join(', ')}`, value);
      return fallback;
    }
    return value as T;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.fail(name, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, redactUrl(value));
      }
    } catch {
      this.fail(name, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, '(unparseable)');
    }
    return value;
  }

  /** Comma-separated URLs; a bad entry is reported with its password masked. */
  urlList(name: string, protocols: readonly string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
    const bad = entries.filter((e) => !hasProtocol(e, protocols));
    if (bad.length > 0) this.fail(name, `a comma-separated list of URLs starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, bad.map(redactUrl).join(','));
    return entries;
  }

  /** Comma-separated list; each entry is checked by `valid`. */
  list(name: string, fallback: readonly string[], valid: (entry: string) => boolean, expected: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
    const bad = entries.filter((e) => !valid(e));
    if (bad.length > 0) this.fail(name, expected, bad.join(','));
    return entries;
  }

  /** Adds a cross-field problem (e.g. one variable only makes sense with another). */
  check(condition: boolean, problem: string): void {
    if (!condition) this.problems.push(problem);
  }

  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private fail(name: string, expected: string, got: string): void {
    this.problems.push(`${name} must be ${expected} (got "${got}")`);
  }
}

function hasProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Hides the password of a connection URL, for logs and the debug config view. */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable)';
  }
}
