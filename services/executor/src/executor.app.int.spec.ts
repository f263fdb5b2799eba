import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus } from '@weft/bus';
import { loadConfig } from '@weft/config';
import { dispatchSubject, type StepDispatch, type StepResult, SUBJECTS } from '@weft/contracts';
import { describeWhenReachable, serverReachable } from '@weft/db/testing';
import type { ServiceHandle } from '@weft/platform';
import { runExecutor } from './executor.app';

const SERVERS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const tracingOff = { enabled: false, shutdown: async () => undefined };

/** Polls `condition` every 20 ms until it holds; fails naming `what` after `timeoutMs`. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The executor process as `main.ts` boots it (runExecutor: config, connectBus, Nest, health,
 * shutdown), on real NATS with its own prefix and queue; the test stands in for the scheduler.
 */
describeWhenReachable('executor app on NATS', [{ what: `NATS at ${SERVERS}`, up: serverReachable(SERVERS, 4222) }], () => {
  const prefix = `exe${process.pid.toString(36)}${Date.now().toString(36)}`;
  const queue = 'exec-test';
  let bus: JetStreamBus;
  let service: ServiceHandle | undefined;
  let held: ServerResponse[];
  let upstream: Server;
  let upstreamUrl: string;
  const results: StepResult[] = [];
  let sequence = 0;

  const dispatch = async (action: string, input: Record<string, unknown>): Promise<StepDispatch> => {
    sequence += 1;
    const runId = `run-${sequence}`;
    const message: StepDispatch = { runId, workflow: 'executor-spec', stepId: 'step', attempt: 1, token: `${runId}:step:1`, action, input, queue, timeoutMs: 30_000 };
    await bus.publish(dispatchSubject(queue), message, { msgId: message.token });
    return message;
  };
  const resultOf = (token: string): StepResult | undefined => results.find((r) => r.token === token);

  beforeAll(async () => {
    held = [];
    // An upstream that holds every request until the test answers it: a step in flight for as long as the test wants.
    upstream = createServer((_request: IncomingMessage, response: ServerResponse) => held.push(response));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/slow`;
    bus = await JetStreamBus.connect({ servers: SERVERS, name: 'weft-executor-test', prefix, pullExpiresMs: 2_000, onError: () => undefined });
    await bus.consume(SUBJECTS.stepResult, { group: 'test-scheduler' }, async (delivery) => {
      results.push(delivery.data);
      await delivery.ack();
    });
    const config = loadConfig({
      NATS_URL: SERVERS,
      WEFT_NATS_PREFIX: prefix,
      WEFT_NATS_PULL_EXPIRES_MS: '2000',
      WEFT_QUEUES: queue,
      PORT: '0',
      LOG_LEVEL: 'silent',
      // http.request refuses loopback unless allowed: the held upstream is on 127.0.0.1.
      WEFT_HTTP_ALLOW: '127.0.0.1',
    });
    service = await runExecutor({ config, tracing: tracingOff }, { handleSignals: false });
  }, 30_000);

  afterAll(async () => {
    for (const response of held) response.end();
    await service?.close();
    const streams = bus?.streamNames() ?? [];
    await bus?.close();
    const admin = await connect({ servers: SERVERS });
    const jsm = await jetstreamManager(admin);
    for (const name of streams) await jsm.streams.delete(name).catch(() => false);
    await admin.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('runs a dispatched step and publishes its result', async () => {
    const step = await dispatch('transform', { value: { a: 1 } });
    await waitFor(() => resultOf(step.token) !== undefined, 'the transform result');
    expect(resultOf(step.token)).toMatchObject({ runId: step.runId, stepId: 'step', attempt: 1, outcome: 'completed', output: { a: 1 } });
    const ready = await fetch(`${service?.url}/health/ready`);
    expect(ready.status).toBe(200);
  }, 30_000);

  it('drains on shutdown: readiness fails, the step in flight finishes and reports before close resolves', async () => {
    const step = await dispatch('http.request', { url: upstreamUrl });
    await waitFor(() => held.length === 1, 'the step to reach the upstream');
    const running = service;
    if (!running) throw new Error('the executor did not boot');
    let closed = false;
    const closing = running.close().then(() => {
      closed = true;
    });
    service = undefined;
    // Readiness fails first (the probe still answers while the worker drains).
    await waitFor(async () => (await fetch(`${running.url}/health/ready`)).status === 503, 'readiness to fail');
    expect(closed).toBe(false);
    expect(resultOf(step.token)).toBeUndefined();
    held[0].writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    await closing;
    await waitFor(() => resultOf(step.token) !== undefined, 'the drained step result');
    expect(resultOf(step.token)).toMatchObject({ outcome: 'completed', output: { status: 200, body: { ok: true } } });
  }, 30_000);
});
