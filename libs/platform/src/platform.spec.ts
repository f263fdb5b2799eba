import { PassThrough } from 'node:stream';
import { type BeforeApplicationShutdown, Injectable, Module } from '@nestjs/common';
import { inSpan, installInMemoryTracing, recordRunStarted, traceIdOf } from '@weft/telemetry';
import { createLogger } from './logger.factory';
import { HealthModule } from './health.module';
import { bootService, type ServiceHandle } from './service.bootstrap';

installInMemoryTracing();

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the service, a level label, the fields, bindings and the active trace id', async () => {
    const out = capture();
    const logger = createLogger({ level: 'debug', service: 'executor', destination: out.stream });
    const step = logger.child({ runId: 'r1', stepId: 'fetch', attempt: 2 });
    const traceId = await inSpan('work', {}, async () => {
      step.info('step started', { correlationId: 'c-9' });
      return traceIdOf();
    });
    logger.debug('outside any span');
    const [inside, outside] = out.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ level: 'info', service: 'executor', msg: 'step started', runId: 'r1', stepId: 'fetch', attempt: 2, correlationId: 'c-9', traceId });
    expect(inside.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof inside.time).toBe('string');
    expect(outside).toMatchObject({ level: 'debug', msg: 'outside any span' });
    expect(outside.traceId).toBeUndefined();
  });

  it('honours the level and serialises errors', () => {
    const out = capture();
    const logger = createLogger({ level: 'warn', service: 'scheduler', destination: out.stream });
    logger.info('dropped');
    logger.error('relay failed', { error: new Error('broker down') });
    const lines = out.lines().map((line) => JSON.parse(line) as { msg: string; error: { message: string; stack: string } });
    expect(lines).toHaveLength(1);
    expect(lines[0].msg).toBe('relay failed');
    expect(lines[0].error.message).toBe('broker down');
    expect(lines[0].error.stack).toContain('Error: broker down');
  });

  it('prints human-readable lines in pretty mode', () => {
    const out = capture();
    createLogger({ level: 'info', service: 'dev', pretty: true, destination: out.stream }).info('run started', { runId: 'r7' });
    const text = out.lines().join('\n');
    expect(text).toContain('INFO');
    expect(text).toContain('run started');
    expect(text).toContain('runId: "r7"');
    expect(() => JSON.parse(out.lines()[0])).toThrow();
  });
});

describe('bootService', () => {
  let service: ServiceHandle | undefined;

  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('serves Prometheus metrics on /metrics next to the health probes', async () => {
    @Module({ imports: [HealthModule.forRoot([])] })
    class AppModule {}
    service = await bootService(AppModule, { name: 'test', port: 0, host: '127.0.0.1', handleSignals: false });
    recordRunStarted('metrics-probe');
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('weft_runs_started_total{workflow="metrics-probe"} 1');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
  });

  it('fails readiness as soon as shutdown starts, while modules drain; liveness stays up', async () => {
    let release: () => void = () => undefined;
    const drained = new Promise<void>((resolve) => (release = resolve));
    let draining = false;

    @Injectable()
    class SlowDrain implements BeforeApplicationShutdown {
      async beforeApplicationShutdown(): Promise<void> {
        draining = true;
        await drained;
      }
    }
    @Module({ imports: [HealthModule.forRoot([])], providers: [SlowDrain] })
    class AppModule {}

    const handle = await bootService(AppModule, { name: 'test', port: 0, host: '127.0.0.1', handleSignals: false });
    const closing = handle.close();
    await waitUntil(() => draining);
    const ready = await fetch(`${handle.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('shutting down');
    expect((await fetch(`${handle.url}/health/live`)).status).toBe(200);
    release();
    await closing;
  });
});

async function waitUntil(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
