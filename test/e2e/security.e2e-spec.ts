import { bootApp, TestApp } from '../support/test-app';

describe('security headers and CORS', () => {
  let sut: TestApp;

  afterEach(async () => {
    await sut.close();
  });

  it('sends the API security headers on JSON answers, errors included', async () => {
    sut = await bootApp();
    const res = await sut.app.inject({ method: 'GET', url: '/api/projects' });

    expect(res.statusCode).toBe(401);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    // Page-only headers stay off JSON answers.
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
  });

  it("sends helmet's page headers on the Swagger UI, with a CSP that lets it load", async () => {
    sut = await bootApp();
    const page = await sut.app.inject({ method: 'GET', url: '/docs' });
    const spec = await sut.app.inject({ method: 'GET', url: '/docs-json' });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(spec.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('allows only the configured origins', async () => {
    sut = await bootApp({ CORS_ORIGINS: 'https://app.example.com' });
    const preflight = (origin: string) =>
      sut.app.inject({
        method: 'OPTIONS',
        url: '/api/projects',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });

    const allowed = await preflight('https://app.example.com');
    const refused = await preflight('https://evil.example.com');

    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-headers']).toContain('authorization');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  // The preflight route answers OPTIONS on every path: it is listed where a path is known, and
  // does not turn an unknown path into a 405.
  it('lists OPTIONS in Allow when CORS answers it, and keeps unknown paths 404', async () => {
    sut = await bootApp({ CORS_ORIGINS: 'https://app.example.com' });
    const wrongMethod = await sut.app.inject({ method: 'PUT', url: '/api/projects', headers: { origin: 'https://app.example.com' } });
    const unknown = await sut.app.inject({ method: 'GET', url: '/api/nowhere' });

    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    // The refusal carries the CORS headers a browser needs to read it.
    expect(wrongMethod.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
  });

  it('sends no CORS headers when no origin is configured', async () => {
    sut = await bootApp();
    const res = await sut.app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://app.example.com' } });

    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
