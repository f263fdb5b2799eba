/**
 * The scheduler package's exports that load Nest (@nestjs/common, rxjs: ~360 modules) or
 * @weft/platform (whose barrel is Nest modules): its Nest module, the control-plane API's
 * module and problem mapper, the API-key pieces re-exported from @weft/platform. index.ts
 * re-exports each of them lazily, loaded on first use, so a process that imports the package
 * for the Scheduler and its stores (`weft run`) does not load Nest.
 * A value export added here must be added to NEST_WIRING in index.ts (a spec checks).
 */
export { SchedulerModule } from './scheduler.module';
export { ApiModule, storedWorkflowCatalog } from './api/api.module';
export { toProblem } from './api/http/problem.util';
export { DEFAULT_NAMESPACE, NAMESPACE_PATTERN, SqlApiKeyRepository, apiKeyId, generateApiKey, hashApiKey } from '@weft/platform';
