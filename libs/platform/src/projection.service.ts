import type { DynamicModule } from '@nestjs/common';
import type { ServiceStart } from '@weft/telemetry';
import { SqlApiKeyRepository } from './auth/api-key.repository';
import { Authenticator } from './auth/authenticator';
import { projectionReadiness } from './projection.module';
import type { ServiceHandle } from './service.bootstrap';
import { type OpenedStore, type RunServiceOptions, runStoreService, type ServiceRuntime, type StoreOpener } from './service.runtime';

export interface ProjectionServiceDefinition<S extends { close(): Promise<void> }> {
  /** `journal`: the log's service, the connection `weft-journal`. */
  name: string;
  open: StoreOpener<S>;
  /** The projection's module (`JournalModule.forRoot(...)`), given what the shell connected and the API-key gate. */
  module(runtime: ServiceRuntime & OpenedStore<S> & { auth: Authenticator }): DynamicModule;
}

/**
 * A projection as its own process: `runStoreService` with the module, its consumer's
 * readiness, and an API-key gate on the shared `api_keys` table; alone, every request needs a key.
 */
export function runProjectionService<S extends { close(): Promise<void> }>(start: ServiceStart, definition: ProjectionServiceDefinition<S>, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  return runStoreService(
    start,
    {
      name: definition.name,
      open: definition.open,
      compose: (runtime) => {
        const auth = new Authenticator(new SqlApiKeyRepository(runtime.dataSource), { anonymous: false });
        const module = definition.module({ ...runtime, auth });
        return { imports: [module], health: [projectionReadiness(module)] };
      },
    },
    options,
  );
}
