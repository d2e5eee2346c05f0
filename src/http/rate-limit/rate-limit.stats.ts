import { Injectable } from '@nestjs/common';
import type { Tier } from './rate-limit-step';

/** Rejections per tier, for /metrics and the debug views. */
@Injectable()
export class RateLimitStats {
  readonly rejections = new Map<Tier, number>();
  private readonly listeners: ((tier: Tier) => void)[] = [];

  rejected(tier: Tier): void {
    this.rejections.set(tier, (this.rejections.get(tier) ?? 0) + 1);
    for (const listener of this.listeners) listener(tier);
  }

  onRejected(listener: (tier: Tier) => void): void {
    this.listeners.push(listener);
  }
}
