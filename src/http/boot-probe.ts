import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, Server } from 'node:http';

/**
 * Answers on the service's port while it boots (embedded PostgreSQL, database connection retries,
 * migrations): live 200, everything else 503 in the usual error shape, so probes and clients see
 * "starting" rather than "connection refused". Closed just before the application listens.
 */
export class BootProbe {
  private server: Server | undefined;

  async start(port: number, host: string): Promise<void> {
    const server = createServer((req, res) => {
      const live = req.method === 'GET' && req.url === '/health/live';
      const requestId = randomUUID();
      const starting = { lifecycle: { status: 'up', state: 'starting' } };
      const body = live
        ? { status: 'ok', info: starting, error: {}, details: starting }
        : { statusCode: 503, error: 'Service Unavailable', message: 'Starting up: waiting for the database', requestId };
      res.writeHead(live ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, 'retry-after': '1', connection: 'close' });
      res.end(JSON.stringify(body));
    });
    server.listen(port, host);
    await once(server, 'listening');
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
