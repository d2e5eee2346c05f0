/**
 * A minimal `--name value` / `--flag` parser for the bench scripts (no dependency). `--name=value`
 * works too; a repeated option keeps every value.
 */
export class Args {
  private readonly values = new Map<string, string[]>();

  constructor(argv: readonly string[], private readonly flags: readonly string[] = []) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}" (options start with --)`);
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      let value: string;
      if (eq > 0) value = arg.slice(eq + 1);
      else if (flags.includes(name)) value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new Error(`--${name} needs a value`);
        value = next;
        i++;
      }
      const list = this.values.get(name) ?? [];
      list.push(value);
      this.values.set(name, list);
    }
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  flag(name: string): boolean {
    const v = this.values.get(name)?.at(-1);
    return v !== undefined && v !== 'false' && v !== '0';
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.at(-1);
  }

  all(name: string): string[] {
    return (this.values.get(name) ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  }

  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  }

  number(name: string, fallback: number, min = 0, max = Number.MAX_VALUE): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
    return n;
  }

  /** Names given that are not in `known`: typos should fail, not be ignored. */
  unknown(known: readonly string[]): string[] {
    return [...this.values.keys()].filter((k) => !known.includes(k) && !this.flags.includes(k));
  }
}
