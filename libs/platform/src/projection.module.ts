import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, type MiddlewareConsumer, type NestModule, type OnApplicationBootstrap, type Provider, type Type } from '@nestjs/common';
import { API_KEY_GATED, apiKeyGateProviders, gateControllers } from './auth/api-key.middleware';
import type { Authenticator } from './auth/authenticator';
import type { HealthCheck } from './health.module';

/**
 * The scaffold of a service that projects lifecycle events into its own tables and
 * answers queries over them (the journal, analytics; the triggers service next): one
 * consumer, optional background work (retention), controllers behind the API-key gate.
 * Each such service configures it from its `forRoot` instead of repeating it.
 */
export interface ProjectionParts {
  /** The event consumer: started at boot, drained at shutdown, its binding is readiness. */
  consumer: { start(): Promise<void>; stop(): Promise<void>; health(): Promise<{ ok: boolean; detail?: string }> };
  /** Started after the consumer and stopped before it (retention passes). */
  background?: { start(): void; stop(): Promise<void> };
  controllers: Type[];
  /** What the controllers inject (query use cases, clocks). */
  providers: Provider[];
  exports?: DynamicModule['exports'];
}

/** The switches every projection module takes. */
export interface ProjectionModuleOptions {
  /** Consume lifecycle events (false: serve queries only, e.g. a read replica). @default true */
  consume?: boolean;
  /** Mount the controllers. @default true */
  http?: boolean;
  /**
   * The API-key gate in front of the controllers (the service serving HTTP on its own).
   * Absent: another gate of the app authenticates (`weft dev` mounts the API's in front of
   * every /v1 route); with none, the routes fail closed (500), never open.
   */
  auth?: Authenticator;
}

const PROJECTION = Symbol('WEFT_PROJECTION');
const GATED_CONTROLLERS = Symbol('WEFT_PROJECTION_CONTROLLERS');

interface Projection {
  name: string;
  parts: ProjectionParts;
  consume: boolean;
}

@Injectable()
class ProjectionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(PROJECTION) private readonly projection: Projection) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.projection.consume) await this.projection.parts.consumer.start();
    this.projection.parts.background?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.projection.parts.background?.stop();
    await this.projection.parts.consumer.stop();
  }
}

/**
 * Base of a projection's Nest module class: gates the controllers when the module was given
 * an `auth`. `class JournalModule extends ProjectionModule` with `@Module({})`.
 */
export abstract class ProjectionModule implements NestModule {
  constructor(
    @Inject(API_KEY_GATED) private readonly gated: boolean,
    @Inject(GATED_CONTROLLERS) private readonly controllers: Type[],
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    gateControllers(consumer, this.gated, ...this.controllers);
  }
}

const projections = new WeakMap<DynamicModule, Projection>();

/** The dynamic module of a projection named `name` (the readiness check is `<name>-consumer`). */
export function projectionModule(module: Type<ProjectionModule>, name: string, parts: ProjectionParts, options: ProjectionModuleOptions): DynamicModule {
  const projection: Projection = { name, parts, consume: options.consume !== false };
  const controllers = options.http === false ? [] : parts.controllers;
  const dynamic: DynamicModule = {
    module,
    controllers,
    providers: [
      ...parts.providers,
      { provide: PROJECTION, useValue: projection },
      { provide: GATED_CONTROLLERS, useValue: controllers },
      ...apiKeyGateProviders(options.http === false ? undefined : options.auth),
      ProjectionLifecycle,
    ],
    exports: parts.exports ?? [],
  };
  projections.set(dynamic, projection);
  return dynamic;
}

/** The readiness check of a module `projectionModule` made: its event consumer is bound. */
export function projectionReadiness(module: DynamicModule): HealthCheck {
  const projection = projections.get(module);
  if (!projection) throw new Error('projectionReadiness: pass the module its forRoot returned');
  const { name, consume, parts } = projection;
  return { name: `${name}-consumer`, check: async () => (consume ? parts.consumer.health() : { ok: true, detail: 'not consuming (queries only)' }) };
}
