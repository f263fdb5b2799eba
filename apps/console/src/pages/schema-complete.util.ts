// Completion in the draft editor from the workflow JSON Schema (docs/schema/workflow-v1.schema.json,
// the one `weft schema` prints and editors use): where the caret is in the YAML, which keys
// may come there (minus those already written beside it), or which values a key takes.
// Pure: text and caret in, suggestions out; the editor draws them.

export interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  items?: JsonSchemaNode;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
  required?: string[];
}

export interface Suggestion {
  /** What the list shows: a key or a value. */
  label: string;
  /** What replaces the typed prefix. */
  insert: string;
  detail: string;
  kind: 'key' | 'value';
}

export interface Completion {
  /** The text from here to the caret is replaced by the chosen suggestion. */
  from: number;
  /** The YAML path of the place, `[]` for a list item (for the tests and the list's title). */
  path: string[];
  suggestions: Suggestion[];
}

interface LineKey {
  /** Column of the key (after any `- `). */
  col: number;
  /** Column of the `- ` when the line starts a list item. */
  dash: number | null;
  key: string;
  /** Text after `key:`, trimmed. */
  value: string;
}

const KEY_LINE = /^(\s*)(-\s+)?([A-Za-z_$][\w$-]*)\s*:(?:\s+(.*))?$/;

function lineKey(line: string): LineKey | null {
  const m = KEY_LINE.exec(line.replace(/\s+#.*$/, ''));
  if (!m) return null;
  const indent = m[1]?.length ?? 0;
  const dash = m[2] === undefined ? null : indent;
  return { col: indent + (m[2]?.length ?? 0), dash, key: m[3] ?? '', value: (m[4] ?? '').trim() };
}

/**
 * The `action:` of the list item a `with:` key at `col` on line `at` belongs to: the keys at
 * the same column up to the item's `- ` line, and down to the next item or a shallower key.
 */
function stepAction(lines: string[], at: number, col: number): string | undefined {
  const own = lineKey(lines[at] ?? '');
  for (let i = at - 1; i >= 0 && own?.dash === null; i--) {
    const k = lineKey(lines[i] ?? '');
    if (!k || k.col > col) continue;
    if (k.col < col) break;
    if (k.key === 'action') return unquote(k.value);
    if (k.dash !== null) break;
  }
  for (let i = at + 1; i < lines.length; i++) {
    const k = lineKey(lines[i] ?? '');
    if (!k || k.col > col) continue;
    if (k.col < col || k.dash !== null) break;
    if (k.key === 'action') return unquote(k.value);
  }
  return undefined;
}

const unquote = (value: string): string => value.replace(/^(['"])(.*)\1$/, '$2');

/** Every variant of a node (anyOf / oneOf / allOf), flattened. */
function variants(node: JsonSchemaNode | undefined): JsonSchemaNode[] {
  if (!node) return [];
  const nested = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return [node, ...nested.flatMap(variants)];
}

function child(node: JsonSchemaNode | undefined, segment: string): JsonSchemaNode | undefined {
  for (const v of variants(node)) {
    if (segment === '[]') {
      if (v.items) return v.items;
      continue;
    }
    const p = v.properties?.[segment];
    if (p) return p;
    if (typeof v.additionalProperties === 'object') return v.additionalProperties;
  }
  return undefined;
}

export function resolvePath(schema: JsonSchemaNode, path: string[]): JsonSchemaNode | undefined {
  let node: JsonSchemaNode | undefined = schema;
  for (const segment of path) node = child(node, segment);
  return node;
}

const typesOf = (node: JsonSchemaNode): string[] => variants(node).flatMap((v) => (v.type === undefined ? [] : Array.isArray(v.type) ? v.type : [v.type]));

/** What follows `key:` when it is chosen: a value after a space, or a block on the next line. */
function keyInsert(key: string, node: JsonSchemaNode, col: number): string {
  const types = typesOf(node);
  const hasProps = variants(node).some((v) => v.properties !== undefined);
  const pad = ' '.repeat(col + 2);
  if (types.length === 1 && types[0] === 'array') return `${key}:\n${pad}- `;
  if (types.length === 1 && types[0] === 'object' && hasProps) return `${key}:\n${pad}`;
  return `${key}: `;
}

function shortDescription(node: JsonSchemaNode): string {
  const text = variants(node).find((v) => v.description)?.description ?? '';
  const types = [...new Set(typesOf(node))].join(' | ');
  const first = text.split(/(?<=\.)\s/)[0] ?? '';
  return [types, first].filter(Boolean).join(' — ');
}

/**
 * Where the caret is and what may be typed there. Key position: an empty line, `- `, or a
 * word at the start of a line; value position: after `key: `. Parents are the nearest lines
 * above with a smaller key column (a `- ` line is a list item of the key above it).
 * `known` adds values for keys whose schema is a bare string (`action` → the catalog's names).
 * `actionInputs` (action name → its input JSON Schema, from the catalog) completes inside a
 * step's `with:` from the schema of the step's `action:` (written above or below it).
 */
export function complete(
  schema: JsonSchemaNode,
  text: string,
  caret: number,
  known: Record<string, readonly string[]> = {},
  actionInputs: Record<string, JsonSchemaNode> = {},
): Completion | null {
  const before = text.slice(0, caret);
  const lineStart = before.lastIndexOf('\n') + 1;
  const current = before.slice(lineStart);
  const lines = before.slice(0, Math.max(0, lineStart - 1)).split('\n');
  if (lineStart === 0) lines.length = 0;

  const keyPos = /^(\s*)(-\s+)?([A-Za-z_$][\w$-]*)?$/.exec(current);
  const valuePos = keyPos ? null : /^(\s*)(-\s+)?([A-Za-z_$][\w$-]*)\s*:\s+(['"]?)([^'"#]*)$/.exec(current);
  if (!keyPos && !valuePos) return null;
  const m = (keyPos ?? valuePos) as RegExpExecArray;
  const indent = m[1]?.length ?? 0;
  const startsItem = m[2] !== undefined;
  let col = indent + (m[2]?.length ?? 0);

  const path: string[] = [];
  /** The line of each path segment's key (-1 for a list's `[]`). */
  const pathLines: number[] = [];
  const siblings = new Set<string>();
  // The list item the caret is in: its dash column, once seen.
  let itemDash: number | null = startsItem ? indent : null;
  let collecting = !startsItem;
  for (let i = lines.length - 1; i >= 0; i--) {
    const k = lineKey(lines[i] ?? '');
    if (!k) continue;
    if (itemDash !== null) {
      // Looking for the key that holds the list: left of the dash, or at its column with no value.
      if (k.col < itemDash || (k.col === itemDash && k.dash === null && k.value === '')) {
        path.unshift(k.key, '[]');
        pathLines.unshift(i, -1);
        col = k.col;
        itemDash = k.dash;
        collecting = false;
      }
      continue;
    }
    if (k.col === col) {
      if (collecting) siblings.add(k.key);
      if (k.dash !== null) {
        itemDash = k.dash;
        collecting = false;
      }
      continue;
    }
    if (k.col < col) {
      path.unshift(k.key);
      pathLines.unshift(i);
      col = k.col;
      collecting = false;
      if (k.dash !== null) itemDash = k.dash;
    }
  }
  // A list item with no key above to hold the list: not a place the schema knows.
  if (itemDash !== null) return null;

  // Inside a step's with: (the innermost), the step's action's input schema, when the catalog has it.
  const withAt = path.findLastIndex((segment, i) => segment === 'with' && path[i - 1] === '[]');
  const action = withAt < 0 ? undefined : stepAction(text.split('\n'), pathLines[withAt] ?? -1, lineKey(lines[pathLines[withAt] ?? -1] ?? '')?.col ?? -1);
  const input = action === undefined ? undefined : actionInputs[action];
  const here = input ? resolvePath(input, path.slice(withAt + 1)) : resolvePath(schema, path);
  if (!here) return null;
  if (keyPos) {
    const prefix = m[3] ?? '';
    const ownCol = indent + (m[2]?.length ?? 0);
    const props = new Map<string, JsonSchemaNode>();
    for (const v of variants(here)) for (const [name, node] of Object.entries(v.properties ?? {})) if (!props.has(name)) props.set(name, node);
    const required = new Set(variants(here).flatMap((v) => v.required ?? []));
    const suggestions = [...props.entries()]
      .filter(([name]) => !siblings.has(name) && name.toLowerCase().startsWith(prefix.toLowerCase()) && name !== prefix)
      .sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)))
      .map(([name, node]): Suggestion => ({ label: name, insert: keyInsert(name, node, ownCol), detail: `${required.has(name) ? 'required · ' : ''}${shortDescription(node)}`, kind: 'key' }));
    return { from: caret - prefix.length, path, suggestions };
  }
  const key = m[3] ?? '';
  const node = child(here, key);
  if (!node) return null;
  const prefix = m[5] ?? '';
  const values: unknown[] = variants(node).flatMap((v) => [...(v.enum ?? []), ...(v.const !== undefined ? [v.const] : [])]);
  if (values.length === 0 && typesOf(node).includes('boolean')) values.push(true, false);
  // Values the schema cannot know (the actions live workers announce, for `action:`).
  if (values.length === 0) values.push(...(known[key] ?? []));
  const suggestions = [...new Set(values)]
    .map(String)
    .filter((v) => v.toLowerCase().startsWith(prefix.toLowerCase()) && v !== prefix)
    .map((v): Suggestion => ({ label: v, insert: v, detail: shortDescription(node), kind: 'value' }));
  return { from: caret - prefix.length, path: [...path, key], suggestions };
}
