import type { WorkflowSpec } from '@weft/core';
import type { WorkflowCatalog } from '../ports/workflow-catalog.port';
import { WorkflowError } from './workflow.errors';
import type { WorkflowsUseCase } from './workflows.usecase';

/**
 * The scheduler's WorkflowCatalog over stored versions: a run request naming a workflow
 * runs its published version, or the version it names, in the request's namespace
 * (this catalog's own, `default` unless told otherwise, when the request names none).
 */
export class StoredWorkflowCatalog implements WorkflowCatalog {
  constructor(
    private readonly workflows: WorkflowsUseCase,
    private readonly namespace = 'default',
  ) {}

  async resolve(workflow: string, version?: string, namespace: string = this.namespace): Promise<{ spec: WorkflowSpec; version: string } | undefined> {
    const number = version === undefined ? undefined : Number(version);
    if (number !== undefined && !(Number.isInteger(number) && number > 0)) return undefined;
    try {
      const found = await this.workflows.resolveForRun(namespace, workflow, number);
      return { spec: found.spec, version: String(found.version) };
    } catch (error) {
      // Unknown, unpublished or archived: the scheduler rejects the request as unknown.
      if (error instanceof WorkflowError) return undefined;
      throw error;
    }
  }
}
