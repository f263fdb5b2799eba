export * from './spec.schema';
export { type Diagnostic, DiagnosticCode, formatDiagnostic, formatPath, hasErrors, type Locate, sortDiagnostics, type SpecPath } from './diagnostic.util';
export { DurationError, formatDuration, formatMs, parseDuration } from './duration.util';
export { matchesInputType } from './input-type.util';
export { type ParsedWorkflow, parseWorkflow } from './parse-workflow.util';
export { type ResolveInputsOptions, resolveInputs } from './resolve-inputs.util';
export { closestMatch, editDistance } from './suggest.util';
export { validateSpec } from './validate-spec.util';
export { WORKFLOW_SCHEMA_ID, workflowJsonSchema } from './json-schema.util';
