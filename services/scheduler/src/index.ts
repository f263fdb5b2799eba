export * from './ports/run-store.port';
export * from './ports/workflow-catalog.port';
export * from './persistence';
export * from './scheduler';
export * from './usecases/transition.util';
export type { SchedulerModuleOptions } from './scheduler.module';
export * from './workflows';
export * from './api';
export * from './ports/slot-store.port';

// The Nest-facing values (nest-wiring.ts), each loaded on its first use: importing this package
// for the Scheduler and its stores (`weft run`) does not load Nest and @weft/platform.
import type * as Wiring from './nest-wiring';
export declare const SchedulerModule: typeof Wiring.SchedulerModule;
export type SchedulerModule = Wiring.SchedulerModule;
export declare const ApiModule: typeof Wiring.ApiModule;
export type ApiModule = Wiring.ApiModule;
export declare const storedWorkflowCatalog: typeof Wiring.storedWorkflowCatalog;
export declare const toProblem: typeof Wiring.toProblem;
export declare const SqlApiKeyRepository: typeof Wiring.SqlApiKeyRepository;
export type SqlApiKeyRepository = Wiring.SqlApiKeyRepository;
export declare const apiKeyId: typeof Wiring.apiKeyId;
export declare const generateApiKey: typeof Wiring.generateApiKey;
export declare const hashApiKey: typeof Wiring.hashApiKey;
export declare const NAMESPACE_PATTERN: typeof Wiring.NAMESPACE_PATTERN;
export declare const DEFAULT_NAMESPACE: typeof Wiring.DEFAULT_NAMESPACE;
/** Every value export of nest-wiring.ts (nest-wiring.spec.ts checks the list against the module). */
export const NEST_WIRING = ['SchedulerModule', 'ApiModule', 'storedWorkflowCatalog', 'toProblem', 'SqlApiKeyRepository', 'apiKeyId', 'generateApiKey', 'hashApiKey', 'NAMESPACE_PATTERN', 'DEFAULT_NAMESPACE'] as const;
for (const name of NEST_WIRING) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  Object.defineProperty(exports, name, { enumerable: true, get: () => (require('./nest-wiring') as typeof Wiring)[name] });
}
