import { type Diagnostic, hasErrors, parseWorkflow, type ParseWorkflowOptions, type WorkflowSpec } from '@weft/core';

/** Bounds on a spec the API accepts (WEFT_MAX_STEPS). */
export type SpecLimits = ParseWorkflowOptions;

/** A spec as the API accepts it: a JSON object, or the text of a YAML/JSON file (positions then point into it). */
export type SpecSource = { spec: unknown; source?: undefined } | { source: string; spec?: undefined };

export interface CheckedSpec {
  /** Present when there is no error. */
  spec?: WorkflowSpec;
  diagnostics: Diagnostic[];
}

/**
 * The checks of `weft validate`, on a spec given as an object or as text: the same
 * parser, schema and semantic validation, so the API reports the same diagnostics.
 * An object has no lines to point at: its diagnostics carry paths and line 0.
 */
export function checkSpec(input: SpecSource, file = '', limits: SpecLimits = {}): CheckedSpec {
  if (input.source !== undefined) {
    const parsed = parseWorkflow(input.source, file, limits);
    return hasErrors(parsed.diagnostics) ? { diagnostics: parsed.diagnostics } : parsed;
  }
  // JSON is YAML: one parser for both keeps the diagnostics identical.
  const parsed = parseWorkflow(JSON.stringify(input.spec ?? null), file, limits);
  const diagnostics = parsed.diagnostics.map((d) => ({ ...d, line: 0, col: 0 }));
  return parsed.spec && !hasErrors(diagnostics) ? { spec: parsed.spec, diagnostics } : { diagnostics };
}
