import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvSchema } from './config';

/** The rows of docs/operations.md's configuration table: variable -> documented default. */
function documentedVariables(): Map<string, string> {
  const text = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'operations.md'), 'utf8');
  const section = text.slice(text.indexOf('\n## Configuration'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const rows = new Map<string, string>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    if (name !== undefined) rows.set(name, (cells[3] ?? '').replace(/`/g, ''));
  }
  return rows;
}

/** The value a variable takes when unset, as written in the environment (zod's default or prefault). */
function schemaDefault(schema: unknown): string | undefined {
  const def = (schema as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
  if (def.type !== 'default' && def.type !== 'prefault') return undefined;
  const value = def.defaultValue;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

describe('docs/operations.md configuration table', () => {
  const documented = documentedVariables();

  it('lists every variable EnvSchema reads, and nothing else', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it.each(Object.entries(EnvSchema.shape))('documents the default of %s', (name, schema) => {
    const fallback = schemaDefault(schema);
    if (fallback === undefined) {
      // No default in the schema: the cell says what happens instead (unset, none, another library's default), never a bare value the schema would contradict.
      expect(documented.get(name)).not.toBe('');
    } else {
      expect(documented.get(name)).toBe(fallback);
    }
  });
});
