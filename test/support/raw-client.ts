import { once } from 'node:events';
import { connect, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkAfterTest, uncheckedFetch } from './contract';

export { rssMb } from '../../tools/shared/processes';

/** What a raw connection saw: the first bytes of the answer and when the server closed it. */
export interface RawOutcome {
  readonly firstLine: string;
  readonly closedAfterMs: number;
}

/**
 * A client that writes `head` at once, then trickles `trickle` one byte every `everyMs` until the
 * server answers or closes the connection: the slow client no HTTP library will imitate.
 */
export async function slowClient(port: number, head: string, trickle: string, everyMs: number, giveUpMs = 60_000): Promise<RawOutcome> {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = performance.now();
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write(head);
  let next = 0;
  const timer = setInterval(() => {
    if (next < trickle.length && !socket.destroyed) socket.write(trickle[next++]);
  }, everyMs);
  const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
  await once(socket, 'close');
  clearInterval(timer);
  clearTimeout(giveUp);
  return { firstLine: answer.split('\r\n')[0], closedAfterMs: performance.now() - started };
}

/**
 * A fetch that also reports how long the answer took. The answer is checked against the OpenAPI
 * document after the test, not in the measured time.
 */
export async function timedFetch(url: string, init?: RequestInit): Promise<{ status: number; body: string; ms: number; headers: Headers }> {
  const started = performance.now();
  const res = await uncheckedFetch(url, init);
  const body = await res.text();
  const ms = performance.now() - started;
  checkAfterTest({ method: init?.method ?? 'GET', url, statusCode: res.status, headers: Object.fromEntries(res.headers), body });
  return { status: res.status, body, ms, headers: res.headers };
}
