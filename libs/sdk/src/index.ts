// Workflow builder and helpers.
export { workflow, WorkflowBuilder, type WorkflowOptions } from './builder/workflow.builder';
export {
  step,
  chain,
  parallel,
  fanOutFanIn,
  type BranchContext,
  type FanOutFanInOptions,
  type Fragment,
  type FragmentElement,
  type JoinContext,
  type StepOf,
  type StepOptions,
} from './builder/fragment.util';
export { workflowToYaml } from './builder/yaml.util';
// Built-in templates.
export { templates, TEMPLATES_DIR, type TemplateInfo, type TemplateOverrides } from './templates.registry';
// Errors.
export {
  SdkErrorCode,
  WeftSdkError,
  WorkflowBuildError,
  FragmentError,
  TemplateNotFoundError,
  TemplateOverrideError,
} from './sdk.error';
// Spec types, so SDK users need not depend on @weft/core directly.
export type { Diagnostic, InputDecl, RetryPolicy, StepSpec, WorkflowSpec } from '@weft/core';
// The HTTP API client.
export * from './client';
// Step handlers in code: define them, serve them from a worker.
export { startWorker, type StartWorkerOptions, type RunningWorker } from './worker';
export {
  defineAction,
  createWorker,
  ActionError,
  NonRetryableError,
  type ActionDefinition,
  type ActionHandler,
  type ActionContext,
  type Worker,
} from '@weft/worker';
