import type { WorkflowSpec } from '@weft/core';

/** Resolves the spec a run request names. Stored workflows come with the HTTP API (versions, publish). */
export interface WorkflowCatalog {
  /** The given version, or the published one when `version` is undefined, in the namespace. Undefined when unknown. */
  resolve(workflow: string, version?: string, namespace?: string): Promise<{ spec: WorkflowSpec; version: string } | undefined>;
}

/** No stored workflows: only ad-hoc runs (a spec in the request), as in `weft run file.yaml`. */
export const adhocOnlyCatalog: WorkflowCatalog = {
  resolve: async () => undefined,
};
