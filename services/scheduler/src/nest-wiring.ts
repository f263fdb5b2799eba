/**
 * The scheduler package's control-plane API (its Nest controllers and module, request and
 * response schemas, OpenAPI routes, the API-key pieces from @weft/platform) and its Nest
 * module: what loads Nest (@nestjs/common, rxjs: ~360 modules), @weft/platform (whose entry
 * point is Nest modules) and the API's zod schemas. index.ts re-exports each value lazily,
 * loaded on first use, so a process that imports the package for the Scheduler and its stores
 * (`weft run`) loads none of it. A value export added here (or to ./api) must be added to
 * NEST_WIRING and its `declare const` in index.ts: nest-wiring.spec.ts checks.
 */
export * from './api';
export { SchedulerModule, type SchedulerModuleOptions } from './scheduler.module';
