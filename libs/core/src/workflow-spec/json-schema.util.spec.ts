import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workflowJsonSchema, WORKFLOW_SCHEMA_ID } from './json-schema.util';

const COMMITTED = join(__dirname, '../../../../docs/schema/workflow-v1.schema.json');
const REGENERATE =
  "node -r @swc-node/register -e \"require('fs').writeFileSync('docs/schema/workflow-v1.schema.json', JSON.stringify(require('./libs/core/src/workflow-spec').workflowJsonSchema(), null, 2) + '\\n')\"";

describe('workflowJsonSchema', () => {
  it('is draft 2020-12 with the published $id, a title and the field descriptions', () => {
    const schema = workflowJsonSchema() as { $schema: string; $id: string; title: string; properties: Record<string, { description?: string }>; required: string[] };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(WORKFLOW_SCHEMA_ID);
    expect(schema.title).toContain('Weft workflow');
    expect(schema.properties.onFailure.description).toBe('@default fail-fast');
    expect(schema.required).toEqual(['apiVersion', 'kind', 'name', 'steps']);
    expect(JSON.stringify(schema)).toContain('"additionalProperties":false');
  });

  it('matches the committed docs/schema/workflow-v1.schema.json', () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    const generated = `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
    if (committed !== generated) {
      throw new Error(`docs/schema/workflow-v1.schema.json is stale; regenerate it from the repository root with:\n${REGENERATE}`);
    }
  });
});
