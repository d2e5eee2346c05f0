import { Injectable } from '@nestjs/common';
import { EventChannel } from '../../database/event-channel';
import type { Tier } from './rate-limit-step';

/** Rejections per tier, for /metrics and the debug views. */
@Injectable()
export class RateLimitStats {
  readonly rejections = new Map<Tier, number>();
  /** Each request answered 429, by the tier that refused it. */
  readonly rejection = new EventChannel<Tier>('rate-limit.rejection');

  rejected(tier: Tier): void {
    this.rejections.set(tier, (this.rejections.get(tier) ?? 0) + 1);
    this.rejection.publish(tier);
  }
}
