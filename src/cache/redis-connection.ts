import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createClient } from 'redis';
import { AppConfig } from '../config/app-config';

export type RedisClient = ReturnType<typeof createClient>;

/** How long a Redis call may take before the caller falls back to local state. */
export const REDIS_CALL_TIMEOUT_MS = 250;
/** After this many failures in a row, calls fail at once for a while instead of each waiting. */
const BREAKER_THRESHOLD = 3;
const BREAKER_OPEN_MS = 2_000;
// A subscriber connection whose peer vanished without a word (a NAT entry expired, a host gone)
// looks open while messages are lost; TCP keepalive would notice only after minutes.
const SUBSCRIBER_PING_MS = 3_000;
const SUBSCRIBER_PING_TIMEOUT_MS = 2_000;

export class RedisUnavailableError extends Error {
  constructor(reason: string) {
    super(`redis unavailable: ${reason}`);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * The optional shared Redis (REDIS_URL): one command client and one subscriber. Start-up never
 * waits for it and never fails on it; while it is down, commands fail at once (no offline queue)
 * so that callers fall back to local state instead of piling up.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  readonly client: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closing = false;
  private lastErrorLog = 0;
  private failuresInARow = 0;
  private openUntil = 0;
  errors = 0;

  constructor(config: AppConfig) {
    if (!config.redisUrl) return;
    this.client = this.create(config.redisUrl, 'commands');
    void this.client.connect().catch(() => undefined);
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  get ready(): boolean {
    return this.client?.isReady ?? false;
  }

  /** Runs a Redis call with a deadline; throws RedisUnavailableError when Redis is off, down or slow. */
  async call<T>(run: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.client;
    if (!client) throw new RedisUnavailableError('not configured');
    if (!client.isReady) throw new RedisUnavailableError('not connected');
    // A slow Redis would otherwise cost every request the full timeout, several times over.
    if (this.openUntil > Date.now()) throw new RedisUnavailableError('skipped for a moment after repeated failures');
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        run(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisUnavailableError(`no answer within ${REDIS_CALL_TIMEOUT_MS} ms`)), REDIS_CALL_TIMEOUT_MS);
        }),
      ]);
      this.failuresInARow = 0;
      return result;
    } catch (err) {
      if (++this.failuresInARow >= BREAKER_THRESHOLD) this.openUntil = Date.now() + BREAKER_OPEN_MS;
      this.noteError(err);
      throw err instanceof RedisUnavailableError ? err : new RedisUnavailableError((err as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Subscribes on a dedicated connection (a subscribed client cannot run other commands) and says
   * whether the subscription is live, on every change of the connection: `onLive(false)` on a
   * drop, an error or a (re)connect, since a message published meanwhile is lost; `onLive(true)`
   * once the channel is subscribed on a ready connection. After a reconnect node-redis sends
   * SUBSCRIBE again and awaits its reply before it emits 'ready', so from 'ready' on no message is
   * missed. An error that leaves the connection up (a reply it could not parse) still reports, and
   * a first SUBSCRIBE that failed (Redis down at start) is sent again on the next 'ready'. A
   * connection that stops answering PING is replaced by a new one.
   */
  subscribe(channel: string, onMessage: (message: string) => void, onLive: (live: boolean) => void): void {
    if (!this.client || this.subscriber) return;
    const url = this.client.options?.url ?? '';
    const start = () => {
      const subscriber = this.create(url, 'subscriber');
      this.subscriber = subscriber;
      let subscribed = false;
      // A replaced client's last events must not speak for its successor.
      const report = () => this.subscriber === subscriber && onLive(subscribed && subscriber.isReady);
      subscriber.on('connect', report).on('reconnecting', report).on('end', report).on('error', report);
      subscriber.on('ready', () => {
        report();
        if (subscribed) return;
        subscriber.subscribe(channel, onMessage).then(
          () => {
            subscribed = true;
            report();
          },
          () => undefined,
        );
      });
      void subscriber.connect().catch(() => undefined);
    };
    let pinging = false;
    this.watchdog = setInterval(() => {
      const subscriber = this.subscriber;
      if (pinging || !subscriber?.isReady) return;
      pinging = true;
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, SUBSCRIBER_PING_TIMEOUT_MS, 'timeout').unref());
      void Promise.race([subscriber.ping().catch(() => 'failed'), deadline]).then((answer) => {
        pinging = false;
        if (answer !== 'timeout' || this.subscriber !== subscriber || this.closing) return;
        this.logger.warn(`redis subscriber connection silent for ${SUBSCRIBER_PING_TIMEOUT_MS} ms: replacing it`);
        onLive(false);
        start();
        subscriber.destroy();
      });
    }, SUBSCRIBER_PING_MS);
    this.watchdog.unref();
    start();
  }

  noteError(err: unknown): void {
    this.errors++;
    const now = Date.now();
    // One line per 10 s at most: a Redis outage must not flood the logs.
    if (now - this.lastErrorLog > 10_000) {
      this.lastErrorLog = now;
      this.logger.warn(`redis error (falling back to local state): ${(err as Error)?.message ?? err}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.watchdog);
    await Promise.all(
      [this.client, this.subscriber].map(async (c) => {
        if (c?.isOpen) await c.close().catch(() => c.destroy());
        else c?.destroy();
      }),
    );
  }

  private create(url: string, role: string): RedisClient {
    const client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 1_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000) },
    });
    client.on('error', (err: Error) => this.noteError(err));
    client.on('ready', () => this.logger.log(`redis ${role} connection ready`));
    return client;
  }
}
