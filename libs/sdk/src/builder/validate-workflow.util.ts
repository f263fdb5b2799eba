import { type Diagnostic, parseWorkflow, type WorkflowSpec } from '@weft/core';
import { workflowToYaml } from './yaml.util';

/**
 * Every problem of a spec built in code, from the same checks `weft validate` runs.
 * It goes through parseWorkflow as YAML because that is core's one entry point that
 * takes any document (schema issues with suggestions, then the semantic checks).
 * Positions in that YAML mean nothing to the caller, so line and col are 0, as core
 * documents for specs that did not come from a file.
 */
export function validateWorkflow(spec: WorkflowSpec): Diagnostic[] {
  const { diagnostics } = parseWorkflow(workflowToYaml(spec), '');
  return diagnostics.map((d) => ({ ...d, line: 0, col: 0 }));
}
