import { InMemoryBus } from '@weft/bus';
import type { WorkflowSpec } from '@weft/core';
import { bootService, type ServiceHandle } from '@weft/platform';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { Scheduler } from '../scheduler';
import { SchedulerModule } from '../scheduler.module';
import { waitUntil } from '../testing/run-store.fixtures';

/**
 * Issue 12 item 8: `weft dev` with a poison outbox row took over a minute to stop on Ctrl-C.
 * A stopping process waits for the relay at most WEFT_SHUTDOWN_GRACE_MS, whatever it is doing:
 * here a bus whose publish never completes holds the publish-after-commit forever, and the
 * close still resolves (`timed-out`), while a healthy bus closes normally (`closed`).
 */

const SPEC: WorkflowSpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'stuck', steps: [{ id: 'a', action: 'noop' }] };

/** An in-memory bus whose publishes do not settle once `hang` is set (a broker that swallows them) until `release()`. */
class HangingBus extends InMemoryBus {
  hang = false;
  publishes = 0;
  private readonly hung: (() => void)[] = [];

  override publish(...args: Parameters<InMemoryBus['publish']>): Promise<void> {
    if (!this.hang) return super.publish(...args);
    this.publishes++;
    return new Promise<void>((resolve) => this.hung.push(resolve));
  }

  /** Settles the swallowed publishes, so a close that gave up waiting can finish behind the test. */
  release(): void {
    this.hang = false;
    for (const resolve of this.hung.splice(0)) resolve();
  }
}

async function boot(bus: HangingBus): Promise<{ service: ServiceHandle; scheduler: Scheduler }> {
  const store = new MemoryRunStore();
  const service = await bootService(SchedulerModule.forRoot({ bus, store, pollIntervalMs: 20 }), {
    name: 'shutdown-test',
    port: 0,
    host: '127.0.0.1',
    handleSignals: false,
    shutdownGraceMs: 100,
  });
  return { service, scheduler: service.app.get(Scheduler) };
}

describe('shutdown is bounded by the grace (WEFT_SHUTDOWN_GRACE_MS)', () => {
  it('resolves while a publish never completes', async () => {
    const bus = new HangingBus({ onError: () => undefined });
    const { service, scheduler } = await boot(bus);
    bus.hang = true;
    await scheduler.startRun({ idempotencyKey: 'stuck-1', workflow: SPEC.name, spec: SPEC, inputs: {} });
    await waitUntil(() => bus.publishes > 0, 'a publish to hang');

    // The promise resolving is the assertion; jest's timeout is the generous outer bound.
    await expect(service.closeBounded()).resolves.toBe('timed-out');

    // The process would exit here. A test lives on: let the abandoned close finish, or its HTTP
    // listener stays open after the whole run (what jest's forceExit covered up).
    bus.release();
    await waitUntil(() => !service.app.getHttpServer().listening, 'the abandoned close to stop listening');
    await bus.close();
  }, 20_000);

  it('closes normally when nothing hangs', async () => {
    const bus = new HangingBus({ onError: () => undefined });
    const { service, scheduler } = await boot(bus);
    await scheduler.startRun({ idempotencyKey: 'fine-1', workflow: SPEC.name, spec: SPEC, inputs: {} });
    await expect(service.closeBounded()).resolves.toBe('closed');
    await bus.close();
  }, 20_000);
});
