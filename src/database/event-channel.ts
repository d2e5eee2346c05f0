import { channel, subscribe, type Channel } from 'node:diagnostics_channel';
import { Logger } from '@nestjs/common';

const logger = new Logger('EventChannel');

/**
 * One typed event stream (pool, query, writer and rate-limit events all use it), on
 * node:diagnostics_channel rather than an EventEmitter: `publish` first reads `hasSubscribers`, so
 * an event nobody listens to costs a field read, and a listened one is a plain loop over the
 * handlers, without EventEmitter's lookup by event name, copy of the listener array and 'error'
 * special case. It lives here, in the lowest layer that publishes, so that everything above can use it.
 *
 * Each instance gets a channel of its own (a Symbol name, never looked up globally): two apps in
 * one process, as in the tests, must not feed each other's metrics.
 */
export class EventChannel<T> {
  private readonly name: symbol;
  private readonly channel: Channel;

  constructor(private readonly description: string) {
    this.name = Symbol(description);
    this.channel = channel(this.name);
  }

  /** For publishers whose message costs something to build. */
  get hasSubscribers(): boolean {
    return this.channel.hasSubscribers;
  }

  publish(event: T): void {
    if (this.channel.hasSubscribers) this.channel.publish(event);
  }

  /**
   * A failing subscriber is logged and the others still run: left to diagnostics_channel, its error
   * would be rethrown as an uncaught exception, taking the process down over a metric.
   */
  subscribe(handler: (event: T) => void): void {
    subscribe(this.name, (message) => {
      try {
        handler(message as T);
      } catch (err) {
        logger.warn({ msg: 'event subscriber failed', channel: this.description, err });
      }
    });
  }
}
