import { createServer, Server } from 'node:http';
import { once } from 'node:events';
import { Child } from './child';

const node = (name: string, script: string, env?: Record<string, string>) => new Child(name, process.execPath, ['-e', script], { env });

describe('Child (a child process for the tests and the tools)', () => {
  it('keeps whole lines when a line arrives in several chunks, stdout and stderr alike', async () => {
    const sut = node('chunks', `process.stdout.write('DATABASE_'); setTimeout(() => { process.stdout.write('URL=x\\nnext'); console.error('on stderr'); }, 100);`);

    expect((await sut.waitForLine(/^DATABASE_URL=(\S+)$/))[1]).toBe('x');
    await sut.exited;
    expect(sut.output).toEqual(expect.arrayContaining(['DATABASE_URL=x', 'next', 'on stderr']));
  });

  it('gives the child only PATH, HOME and the environment it is given', async () => {
    process.env.CHILD_SPEC_LEAK = 'leaked';
    try {
      const sut = node('env', `console.log(Object.keys(process.env).sort().join(','))`, { ONLY: '1' });
      await sut.exited;
      expect(sut.output[0].split(',')).toEqual(['HOME', 'ONLY', 'PATH']);
    } finally {
      delete process.env.CHILD_SPEC_LEAK;
    }
  });

  it('fails waiting for a line once the child has exited, with its output', async () => {
    const sut = node('quits', `console.log('bye'); process.exit(3)`);

    await expect(sut.waitForLine(/never/)).rejects.toThrow(/quits exited \(3\):\n {4}bye/);
  });

  it('SIGKILLs a child that ignores SIGTERM after the grace period', async () => {
    const sut = node('stubborn', `process.on('SIGTERM', () => console.log('ignored')); console.log('up'); setInterval(() => {}, 1000);`);
    await sut.waitForLine(/^up$/);

    const stopped = await sut.stop('SIGTERM', 300);

    expect(stopped).toMatchObject({ code: null, signal: 'SIGKILL', killed: true });
    expect(sut.running).toBe(false);
    expect(sut.exitStatus).toBe('SIGKILL');
  });

  describe('waitForHttp', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      let calls = 0;
      server = createServer((_req, res) => res.writeHead(++calls < 3 ? 503 : 200).end()).listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/ready`;
    });
    afterAll(() => server.close());

    it('polls until the answer is 200', async () => {
      const sut = node('waiting', 'setTimeout(() => {}, 10000)');
      try {
        await expect(sut.waitForHttp(url, 5_000)).resolves.toBeUndefined();
      } finally {
        await sut.stop();
      }
    });

    it('gives up when the child exits first', async () => {
      const sut = node('gone', `console.log('crashed'); process.exit(1)`);
      await expect(sut.waitForHttp('http://127.0.0.1:9/never', 5_000, 'gone ready')).rejects.toThrow(/gone exited \(1\) before gone ready:\n {4}crashed/);
    });
  });
});
