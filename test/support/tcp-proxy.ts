import { once } from 'node:events';
import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server (Redis here) that a test can cut and restore, so a
 * dependency can "go down" for one app without stopping the shared server other tests use.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Each open connection (both sockets), by the local port of its socket towards the target. */
  private readonly connections = new Map<number, [Socket, Socket]>();
  port = 0;
  /** Delay added to every answer from the target: a slow dependency rather than a dead one. */
  delayMs = 0;
  /** While set, new connections are dropped at once (existing ones keep flowing). */
  refuseNew = false;
  /** Connections (by upstream local port) whose bytes vanish both ways while their sockets stay open. */
  private readonly frozen = new Set<number>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = createServer((client) => {
      if (this.refuseNew) {
        client.destroy();
        return;
      }
      const upstream = createConnection(this.targetPort, this.targetHost);
      upstream.on('connect', () => {
        const local = upstream.localPort!;
        this.connections.set(local, [client, upstream]);
        upstream.on('close', () => this.connections.delete(local));
      });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      const frozen = () => this.frozen.has(upstream.localPort ?? -1);
      client.on('data', (chunk: Buffer) => {
        if (!frozen()) upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.on('data', (chunk: Buffer) => {
        if (frozen()) return;
        if (this.delayMs === 0) client.write(chunk);
        else setTimeout(() => client.writable && client.write(chunk), this.delayMs);
      });
      upstream.on('end', () => client.end());
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** Drops every connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }

  /** Local ports of the open connections towards the target, to find one in e.g. Redis' CLIENT LIST. */
  upstreamPorts(): number[] {
    return [...this.connections.keys()];
  }

  /** Drops the one connection whose socket towards the target has this local port. */
  drop(upstreamPort: number): void {
    for (const s of this.connections.get(upstreamPort) ?? []) s.destroy();
  }

  /** Black-holes one connection, as when the peer is gone without a word (no FIN, no RST). */
  freeze(upstreamPort: number): void {
    this.frozen.add(upstreamPort);
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }
}
