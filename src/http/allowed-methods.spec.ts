import Fastify, { FastifyInstance } from 'fastify';
import { AllowedMethods } from './allowed-methods';

describe('AllowedMethods', () => {
  let app: FastifyInstance;
  let sut: AllowedMethods;

  async function boot(register: (app: FastifyInstance) => void): Promise<void> {
    app = Fastify();
    sut = new AllowedMethods(app);
    app.addHook('onRoute', (route) => sut.note(route));
    register(app);
    await app.ready();
  }

  afterEach(async () => {
    await app.close();
  });

  const routes = (app: FastifyInstance) => {
    const ok = async () => 'ok';
    app.delete('/items/:id', ok);
    app.patch('/items/:id', ok);
    app.get('/items/:id', ok);
    app.post('/items', ok);
    app.get('/items', ok);
    app.patch('/items/status', ok);
  };

  it('lists the methods routed at a URL in the usual order, HEAD included for GET', async () => {
    await boot(routes);

    expect(sut.at('/items/42')).toEqual(['GET', 'HEAD', 'PATCH', 'DELETE']);
    expect(sut.at('/items?limit=1')).toEqual(['GET', 'HEAD', 'POST']);
    // A static route and a parametric one match the same URL: both count, as routing would.
    expect(sut.at('/items/status')).toEqual(['GET', 'HEAD', 'PATCH', 'DELETE']);
  });

  it('finds nothing for an unknown path', async () => {
    await boot(routes);

    expect(sut.at('/nothing/here')).toEqual([]);
    expect(sut.at('/items/42/more')).toEqual([]);
  });

  it('takes neither a malformed URL nor an over-long parameter for a route', async () => {
    await boot(routes);

    expect(sut.at('/items/%zz')).toEqual([]);
    expect(sut.at(`/items/${'x'.repeat(101)}`)).toEqual([]);
  });

  it('lists a method routed on every path (the CORS preflight) only where the path is known', async () => {
    await boot((app) => {
      routes(app);
      app.options('*', async () => '');
    });

    expect(sut.at('/items/42')).toEqual(['GET', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS']);
    expect(sut.at('/nothing/here')).toEqual([]);
  });
});
