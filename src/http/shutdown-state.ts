import { Injectable } from '@nestjs/common';

/** Set when the process starts shutting down, so readiness turns 503 before the server closes. */
@Injectable()
export class ShutdownState {
  private since: number | undefined;

  begin(): void {
    this.since ??= Date.now();
  }

  get shuttingDown(): boolean {
    return this.since !== undefined;
  }
}
