import { z } from 'zod';
import { WorkflowSpec } from './spec.schema';

export const WORKFLOW_SCHEMA_ID = 'https://weft.dev/schema/workflow-v1.json';

/**
 * JSON Schema (draft 2020-12) of spec v1, generated from the same zod schema the parser
 * uses, descriptions included. Editors use it for completion; docs/schema/workflow-v1.schema.json
 * is this, committed.
 */
export function workflowJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(WorkflowSpec, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return {
    $schema,
    $id: WORKFLOW_SCHEMA_ID,
    title: 'Weft workflow (spec v1)',
    description: 'A durable DAG workflow: steps, their needs, and ${{ CEL }} expressions. See docs/spec.md.',
    ...generated,
  };
}
