import { IpcClosedError, IpcPeer } from './ipc-peer';

/** Two peers wired to each other, as a worker and the primary are by node:cluster. */
function aPair(handlers: Record<string, (body: unknown) => unknown>): { worker: IpcPeer; primary: IpcPeer } {
  const pair = {} as { worker: IpcPeer; primary: IpcPeer };
  pair.worker = new IpcPeer((m) => setImmediate(() => pair.primary.receive(m)), () => undefined);
  pair.primary = new IpcPeer((m) => setImmediate(() => pair.worker.receive(m)), (kind) => handlers[kind]);
  return pair;
}

describe('IpcPeer', () => {
  it('pairs each answer with its request, including answers that come out of order', async () => {
    const { worker } = aPair({
      echo: async (body) => {
        await new Promise((resolve) => setTimeout(resolve, body === 'slow' ? 20 : 0));
        return body;
      },
    });

    const answers = await Promise.all([worker.request('echo', 'slow'), worker.request('echo', 'fast')]);

    expect(answers).toEqual(['slow', 'fast']);
  });

  it('turns a missing handler or a thrown error into a rejection, and fails waiting requests on close', async () => {
    const { worker } = aPair({
      fail: () => {
        throw new Error('boom');
      },
    });

    await expect(worker.request('unknown', null)).rejects.toThrow('no handler for unknown');
    await expect(worker.request('fail', null)).rejects.toThrow('boom');
    const pending = worker.request('never', null, 10_000);
    worker.close('the primary disconnected');
    await expect(pending).rejects.toBeInstanceOf(IpcClosedError);
    await expect(worker.request('fail', null)).rejects.toBeInstanceOf(IpcClosedError);
  });
});
