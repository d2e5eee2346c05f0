import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LogFn, Logger as Pino } from 'pino';

/**
 * request.log without a pino child per request. Fastify makes one for every request (bound to
 * its request id) before any hook runs, though most requests never log through it: the pipeline's
 * one line per request is written only at info, errors are rare. This stand-in makes the child on
 * the first call at an enabled level, so a request that logs nothing costs no child
 * (docs/BENCHMARKS.md, issue #16). A route with a log level of its own gets its child at once.
 */
export function requestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined) return parent.child(bindings, options);
  return new LazyChildLogger(parent as Pino, bindings) as unknown as FastifyBaseLogger;
}

class LazyChildLogger {
  private made: Pino | undefined;

  constructor(
    private readonly parent: Pino,
    private readonly bindings: Bindings,
  ) {}

  fatal(...args: Parameters<LogFn>): void {
    this.write('fatal', args);
  }
  error(...args: Parameters<LogFn>): void {
    this.write('error', args);
  }
  warn(...args: Parameters<LogFn>): void {
    this.write('warn', args);
  }
  info(...args: Parameters<LogFn>): void {
    this.write('info', args);
  }
  debug(...args: Parameters<LogFn>): void {
    this.write('debug', args);
  }
  trace(...args: Parameters<LogFn>): void {
    this.write('trace', args);
  }
  silent(): void {}

  get level(): string {
    return this.parent.level;
  }

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Pino {
    return this.logger().child(bindings, options);
  }

  private write(level: Level, args: Parameters<LogFn>): void {
    if (this.parent.isLevelEnabled(level)) (this.logger()[level] as (...a: Parameters<LogFn>) => void)(...args);
  }

  private logger(): Pino {
    return (this.made ??= this.parent.child(this.bindings));
  }
}
