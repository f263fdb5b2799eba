import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { complete, type JsonSchemaNode } from '../../apps/console/src/pages/schema-complete.util';

// The draft editor's completion, on the published schema (docs/schema/workflow-v1.schema.json,
// which the console bundles; libs/core's json-schema.util.spec.ts keeps it equal to the core's): the place in the YAML, the keys that may come there minus those
// written beside it, and the values of enums and booleans.

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'schema', 'workflow-v1.schema.json'), 'utf8')) as JsonSchemaNode;

/** Completion at the `|` in `text`. */
function at(text: string, known: Record<string, string[]> = {}) {
  const caret = text.indexOf('|');
  return complete(schema, text.replace('|', ''), caret, known);
}
const labels = (text: string, known: Record<string, string[]> = {}): string[] => at(text, known)?.suggestions.map((s) => s.label) ?? [];

describe('draft editor completion from the workflow JSON Schema', () => {
  it('offers the top-level keys not written yet, required ones first', () => {
    const got = labels('apiVersion: weft/v1\nkind: Workflow\nname: demo\n|');
    expect(got).toEqual(expect.arrayContaining(['steps', 'inputs', 'triggers', 'outputs', 'defaults']));
    expect(got).not.toContain('name');
    expect(got).not.toContain('kind');
    expect(labels('name: demo\n|')[0]).toBe('apiVersion');
    expect(labels('name: demo\nst|')).toEqual(['steps']);
  });

  it("offers a step's keys inside a list item, minus its siblings, and opens blocks for objects and lists", () => {
    const text = 'name: demo\nsteps:\n  - id: a\n    action: noop\n    re|';
    expect(at(text)?.path).toEqual(['steps', '[]']);
    expect(labels(text)).toEqual(['retry', 'review']);
    const retry = at(text)?.suggestions.find((s) => s.label === 'retry');
    expect(retry?.insert).toBe('retry:\n      ');
    expect(labels('steps:\n  - id: a\n    ne|')).toEqual(['needs']);
    expect(at('steps:\n  - id: a\n    ne|')?.suggestions[0]?.insert).toBe('needs:\n      - ');
    // A new item: every step key, required first.
    const fresh = labels('steps:\n  - id: a\n    action: noop\n  - |');
    expect(fresh.slice(0, 2).sort()).toEqual(['action', 'id']);
    // Lists at the parent's own column (YAML allows it).
    expect(labels('steps:\n- id: a\n  act|')).toEqual(['action']);
  });

  it('follows nested objects: retry inside a step, a trigger webhook', () => {
    expect(labels('steps:\n  - id: a\n    retry:\n      maxAttempts: 3\n      |')).toEqual(expect.arrayContaining(['backoff', 'initialInterval', 'jitter']));
    expect(labels('steps:\n  - id: a\n    retry:\n      maxAttempts: 3\n      |')).not.toContain('maxAttempts');
    expect(at('triggers:\n  - id: hook\n    webhook:\n      pre|')?.path).toEqual(['triggers', '[]', 'webhook']);
    expect(labels('triggers:\n  - id: hook\n    webhook:\n      pre|')).toEqual(['preset']);
  });

  it('offers enum values, booleans, and known values for bare strings', () => {
    expect(labels('steps:\n  - id: a\n    retry:\n      backoff: |')).toEqual(['fixed', 'exponential']);
    expect(labels('steps:\n  - id: a\n    retry:\n      backoff: ex|')).toEqual(['exponential']);
    expect(labels('onFailure: |')).toEqual(['fail-fast', 'continue']);
    expect(labels('steps:\n  - id: a\n    retry:\n      jitter: |')).toEqual(['true', 'false']);
    expect(labels('inputs:\n  who:\n    type: |')).toEqual(['string', 'integer', 'number', 'boolean', 'object', 'array']);
    expect(labels('steps:\n  - id: a\n    action: tr|', { action: ['transform', 'noop', 'trigger-run'] })).toEqual(['transform', 'trigger-run']);
  });

  it('offers nothing where the schema says nothing: free maps, free values, mid-line text', () => {
    expect(labels('steps:\n  - id: a\n    with:\n      |')).toEqual([]);
    expect(labels('name: |')).toEqual([]);
    expect(at('name: demo # a comment|')).toBeNull();
    expect(at('- |')).toBeNull();
  });

  it("completes a step's with: keys from its action's input schema (the catalog's), wherever action: is written", () => {
    const http: JsonSchemaNode = {
      type: 'object',
      required: ['url'],
      properties: {
        method: { type: 'string', enum: ['GET', 'POST'], description: 'The HTTP method. Default GET.' },
        url: { type: 'string', description: 'Where to send it.' },
        headers: { type: 'object', properties: { accept: { type: 'string' } } },
      },
    };
    const inputs = { http, fail: { type: 'object', properties: { code: { type: 'string' } } } };
    const keys = (text: string): string[] => {
      const caret = text.indexOf('|');
      return complete(schema, text.replace('|', ''), caret, {}, inputs)?.suggestions.map((s) => s.label) ?? [];
    };
    // action above with:, required first; siblings left out.
    expect(keys('steps:\n  - id: a\n    action: http\n    with:\n      |')).toEqual(['url', 'method', 'headers']);
    expect(keys('steps:\n  - id: a\n    action: http\n    with:\n      url: x\n      |')).toEqual(['method', 'headers']);
    expect(keys('steps:\n  - id: a\n    action: http\n    with:\n      me|')).toEqual(['method']);
    // action below with:, and with: on the item's own line; quoted action names.
    expect(keys('steps:\n  - id: a\n    with:\n      |\n    action: http\n  - id: b\n    action: fail')).toEqual(['url', 'method', 'headers']);
    expect(keys('steps:\n  - with:\n      |\n    action: "fail"')).toEqual(['code']);
    // Another item's action is not this one's.
    expect(keys('steps:\n  - id: a\n    action: http\n  - id: b\n    with:\n      |')).toEqual([]);
    // Values (an enum of the input schema) and nested objects of the input.
    expect(keys('steps:\n  - id: a\n    action: http\n    with:\n      method: |')).toEqual(['GET', 'POST']);
    expect(keys('steps:\n  - id: a\n    action: http\n    with:\n      headers:\n        |')).toEqual(['accept']);
    // Opening a block for an object input; an action without a schema: nothing.
    const block = 'steps:\n  - action: http\n    with:\n      hea';
    expect(complete(schema, block, block.length, {}, inputs)?.suggestions[0]?.insert).toBe('headers:\n        ');
    expect(keys('steps:\n  - id: a\n    action: noop\n    with:\n      |')).toEqual([]);
  });
});
