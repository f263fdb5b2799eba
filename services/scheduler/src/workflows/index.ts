export { canonicalJson, specHash } from './canonical-json.util';
export { checkSpec, type CheckedSpec, type SpecLimits, type SpecSource } from './spec-source.util';
export { SpecChecker, type SpecCheckerOptions } from './spec-checker';
export { InvalidSpecError, WORKFLOW_ERROR_CODES, WorkflowError, type WorkflowErrorCode } from './workflow.errors';
export type { NewWorkflow, VersionRecord, VersionWithSpec, WorkflowRecord, WorkflowRepository } from './workflow.repository';
export { SqlWorkflowRepository } from './sql-workflow.repository';
export { type CreateWorkflowInput, type ResolvedWorkflowRun, WorkflowsUseCase } from './workflows.usecase';
export { StoredWorkflowCatalog } from './stored-workflow.catalog';
