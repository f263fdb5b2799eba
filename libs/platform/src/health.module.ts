import { Controller, type DynamicModule, Get, HttpCode, HttpException, HttpStatus, Inject, Injectable, Module, type OnModuleDestroy } from '@nestjs/common';

/** One dependency a service needs to be ready (database, broker, bound consumers). */
export interface HealthCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

export const HEALTH_CHECKS = Symbol('WEFT_HEALTH_CHECKS');

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function runChecks(checks: HealthCheck[], timeoutMs: number): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ ok: boolean; detail: string }>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs}ms` }), timeoutMs);
      });
      try {
        const result = await Promise.race([c.check(), timeout]);
        return [c.name, result] as const;
      } catch (error) {
        return [c.name, { ok: false, detail: error instanceof Error ? error.message : String(error) }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checksOut = Object.fromEntries(results);
  return { status: results.every(([, r]) => r.ok) ? 'ok' : 'unavailable', checks: checksOut };
}

/**
 * Set when shutdown begins. Nest runs every onModuleDestroy before any
 * beforeApplicationShutdown, so readiness fails while consumers drain and steps finish,
 * and the endpoints controller stops routing to a pod that is leaving.
 */
@Injectable()
class Draining implements OnModuleDestroy {
  active = false;

  onModuleDestroy(): void {
    this.active = true;
  }
}

/**
 * Kubernetes probes. Liveness is the process only (a broken database must not get
 * pods restarted in a loop); readiness and startup check every dependency.
 */
@Controller('health')
class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    @Inject(Draining) private readonly draining: Draining,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<HealthReport> {
    if (this.draining.active) return this.verdict({ status: 'unavailable', checks: { shutdown: { ok: false, detail: 'shutting down: draining consumers and in-flight steps' } } });
    return this.verdict(await runChecks(this.checks, 2000));
  }

  @Get('startup')
  async startup(): Promise<HealthReport> {
    return this.verdict(await runChecks(this.checks, 2000));
  }

  private verdict(report: HealthReport): HealthReport {
    if (report.status !== 'ok') throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}

@Module({})
export class HealthModule {
  static forRoot(checks: HealthCheck[]): DynamicModule {
    return { module: HealthModule, controllers: [HealthController], providers: [{ provide: HEALTH_CHECKS, useValue: checks }, Draining] };
  }
}

export { runChecks };
