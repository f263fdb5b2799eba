import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { CONSOLE_CSP, ConsoleModule, consoleDistDir } from './console.module';
import { bootService, type ServiceHandle } from './service.bootstrap';

@Controller('v1/things')
class ThingsController {
  @Get()
  list(): { items: string[] } {
    return { items: ['a'] };
  }
}

describe('ConsoleModule', () => {
  let dir: string;
  let service: ServiceHandle;
  const get = (p: string, init?: RequestInit): Promise<Response> => fetch(`${service.url}${p}`, init);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'weft-console-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'robots.txt'), 'User-agent: *');
    writeFileSync(path.join(path.dirname(dir), 'secret.txt'), 'no');
    @Module({ imports: [ConsoleModule.serve(dir)], controllers: [ThingsController] })
    class AppModule {}
    service = await bootService(AppModule, { port: 0, host: '127.0.0.1', name: 'console-spec', handleSignals: false });
  });
  afterAll(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers index.html at / and at any deep link, with a same-origin content security policy', async () => {
    for (const p of ['/', '/runs', '/runs/3f6c?step=a', '/workflows/diamond']) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 200]);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('<div id="root">');
    }
  });

  it('sends hashed assets with a year of caching, other files revalidated', async () => {
    const asset = await get('/assets/app-1a2b.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log(1)');
    const robots = await get('/robots.txt');
    expect(robots.headers.get('cache-control')).toBe('no-cache');
    const head = await get('/assets/app-1a2b.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('14');
  });

  it('leaves the API, health, metrics and OpenAPI paths to their owners (unknown API routes stay 404, not the page)', async () => {
    expect(await (await get('/v1/things')).json()).toEqual({ items: ['a'] });
    const unknown = await get('/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).not.toContain('text/html');
    expect((await get('/metrics')).headers.get('content-type')).not.toContain('text/html');
  });

  it('answers a missing asset or file with 404 rather than the page, and never serves outside its folder', async () => {
    expect((await get('/assets/gone-9z.js')).status).toBe(404);
    expect((await get('/favicon.png')).status).toBe(404);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt']) {
      const res = await get(p);
      expect(await res.text()).not.toBe('no');
    }
  });

  it('only answers reads', async () => {
    expect((await get('/runs', { method: 'POST' })).status).toBe(404);
  });

  it('finds the console package of this checkout', () => {
    expect(consoleDistDir()).toBe(path.resolve(__dirname, '../../../apps/console/dist'));
  });
});

describe('ConsoleModule without a build', () => {
  it('says how to build the console instead of a blank page', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'weft-console-empty-'));
    @Module({ imports: [ConsoleModule.serve(empty)] })
    class AppModule {}
    const service = await bootService(AppModule, { port: 0, host: '127.0.0.1', name: 'console-spec', handleSignals: false });
    try {
      const res = await fetch(`${service.url}/runs`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build -w @weft/console');
    } finally {
      await service.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
