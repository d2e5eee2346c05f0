// madge ships no types; only what test/architecture.spec.ts uses.
declare module 'madge' {
  interface MadgeConfig {
    fileExtensions?: string[];
    tsConfig?: string;
    excludeRegExp?: RegExp[];
  }
  interface MadgeResult {
    /** Each file (relative to the scanned folder) and the files it imports. */
    obj(): Record<string, string[]>;
    circular(): string[][];
    warnings(): { skipped: string[] };
  }
  function madge(path: string, config?: MadgeConfig): Promise<MadgeResult>;
  export = madge;
}
