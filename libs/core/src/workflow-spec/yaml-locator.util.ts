import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, Scalar } from 'yaml';
import type { Locate, SpecPath } from './diagnostic.util';

/**
 * Maps spec paths back to where they were written. A path that does not exist (a missing
 * key) resolves to its deepest existing parent, which is where the fix goes.
 */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /** Position of the value at `path` (or of a character inside it when `offset` is given). */
  readonly locate: Locate = (path, offset) => {
    const found = this.find(path);
    // An empty document: the fix goes at its start.
    if (!found) return { line: 1, col: 1 };
    const { node, key } = found;
    const target = node ?? key;
    const range = target?.range;
    if (!range) return undefined;
    let at = range[0];
    if (offset !== undefined && offset > 0 && node && isScalar(node) && typeof node.value === 'string') {
      const inside = offsetInScalar(this.text.slice(range[0], range[1]), node.type, node.value, offset);
      if (inside !== undefined) at = range[0] + inside;
    }
    return this.position(at);
  };

  /** Position of the key of the last path segment (for "unknown field" and "invalid key"). */
  locateKey(path: SpecPath): { line: number; col: number } | undefined {
    const found = this.find(path);
    const range = found?.key?.range ?? found?.node?.range;
    return range ? this.position(range[0]) : undefined;
  }

  private position(offset: number): { line: number; col: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /** Walks the document along `path`; stops at the deepest node that exists. */
  private find(path: SpecPath): { node?: Node; key?: Node } | undefined {
    let node = this.resolve(this.doc.contents ?? undefined);
    let key: Node | undefined;
    if (!node) return undefined;
    for (const part of path) {
      let next: Node | undefined;
      let nextKey: Node | undefined;
      if (isMap(node)) {
        const pair: Pair<unknown, unknown> | undefined = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(part));
        if (pair) {
          nextKey = isNode(pair.key) ? pair.key : undefined;
          // `key:` with nothing after it: the key is the place to point at.
          if (!isNode(pair.value)) return { key: nextKey };
          next = this.resolve(pair.value);
        }
      } else if (isSeq(node) && typeof part === 'number') {
        const item: unknown = node.items[part];
        next = isNode(item) ? this.resolve(item) : undefined;
      }
      if (!next) return { node, key };
      node = next;
      key = nextKey;
    }
    return { node, key };
  }

  private resolve(node: Node | undefined): Node | undefined {
    if (node && isAlias(node)) return node.resolve(this.doc) ?? node;
    return node;
  }
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && 'range' in value;
}

/**
 * Where character `offset` of a scalar's value sits in its source text. Exact for plain
 * and quoted one-line scalars (escapes included) and for block scalars; undefined when
 * folding makes it ambiguous.
 */
export function offsetInScalar(raw: string, type: Scalar['type'], value: string, offset: number): number | undefined {
  switch (type) {
    case Scalar.QUOTE_DOUBLE:
    case Scalar.QUOTE_SINGLE:
      return offsetInQuoted(raw, offset, type === Scalar.QUOTE_DOUBLE) ?? offsetByLines(raw, value, offset);
    case Scalar.PLAIN:
      if (raw === value) return offset;
      return offsetByLines(raw, value, offset);
    default:
      return offsetByLines(raw, value, offset);
  }
}

function offsetInQuoted(raw: string, offset: number, double: boolean): number | undefined {
  let r = 1;
  let v = 0;
  while (v < offset) {
    if (r >= raw.length - 1) return undefined;
    const ch = raw[r];
    if (ch === '\n' || ch === '\r') return undefined;
    if (double && ch === '\\') {
      const kind = raw[r + 1];
      if (kind === 'x') r += 4;
      else if (kind === 'u') r += 6;
      else if (kind === 'U') {
        v += Number.parseInt(raw.slice(r + 2, r + 10), 16) > 0xffff ? 1 : 0;
        r += 10;
      } else r += 2;
      v += 1;
    } else if (!double && ch === "'" && raw[r + 1] === "'") {
      r += 2;
      v += 1;
    } else {
      r += 1;
      v += 1;
    }
  }
  return v === offset ? r : undefined;
}

/** Finds the value's lines one after another in the source (block scalars keep them verbatim). */
function offsetByLines(raw: string, value: string, offset: number): number | undefined {
  const lines = value.split('\n');
  let from = raw.startsWith('|') || raw.startsWith('>') ? raw.indexOf('\n') + 1 : 0;
  let start = 0;
  for (const line of lines) {
    const end = start + line.length;
    const at = line.length > 0 ? raw.indexOf(line, from) : from;
    if (at < 0) return undefined;
    if (offset <= end) return at + (offset - start);
    from = at + line.length;
    start = end + 1;
  }
  return undefined;
}
