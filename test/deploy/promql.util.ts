/**
 * Just enough PromQL lexing to list what an expression reads: metric names with the
 * labels their matchers use, and the labels of by/without/on/ignoring/group_* clauses.
 * Strings, durations, numbers, Grafana variables and function names are skipped.
 */

export interface Selector {
  metric: string;
  labels: string[];
}

export interface PromqlRefs {
  selectors: Selector[];
  /** Labels named in by (...), without (...), on (...), ignoring (...), group_left/right (...). */
  grouping: string[];
}

const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'start', 'end']);
/** Aggregations may put `by (...)` between their name and their argument. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const IDENT = /[A-Za-z_:][A-Za-z0-9_:]*/y;

export function promqlRefs(expr: string): PromqlRefs {
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  let i = 0;

  const skipSpace = (): void => {
    while (i < expr.length && /\s/.test(expr[i])) i++;
  };
  const skipString = (): void => {
    const quote = expr[i++];
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
    i++;
  };
  const readIdent = (): string | undefined => {
    IDENT.lastIndex = i;
    const m = IDENT.exec(expr);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  /** `{label op "value", ...}` starting at `{`: the label names. */
  const readMatchers = (): string[] => {
    const names: string[] = [];
    i++;
    for (;;) {
      skipSpace();
      if (i >= expr.length) throw new Error(`unterminated matcher in ${expr}`);
      if (expr[i] === '}') {
        i++;
        return names;
      }
      if (expr[i] === ',') {
        i++;
        continue;
      }
      const name = readIdent();
      if (!name) throw new Error(`bad matcher at ${i} in ${expr}`);
      names.push(name);
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i));
      if (!op) throw new Error(`bad matcher operator at ${i} in ${expr}`);
      i += op[0].length;
      skipSpace();
      if (expr[i] !== '"' && expr[i] !== "'" && expr[i] !== '`') throw new Error(`matcher value must be a string at ${i} in ${expr}`);
      skipString();
    }
  };
  /** `(a, b)` starting at `(`: the names. */
  const readLabelList = (): string[] => {
    const end = expr.indexOf(')', i);
    if (end < 0) throw new Error(`unterminated label list in ${expr}`);
    const names = expr
      .slice(i + 1, end)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    i = end + 1;
    return names;
  };

  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c) || '()+-*/%^,<>=!'.includes(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      skipString();
    } else if (c === '[') {
      const end = expr.indexOf(']', i);
      if (end < 0) throw new Error(`unterminated range in ${expr}`);
      i = end + 1;
    } else if (c === '$') {
      i++;
      if (expr[i] === '{') i = expr.indexOf('}', i) + 1;
      else readIdent();
    } else if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[0-9A-Za-z.]/.test(expr[i])) i++;
    } else if (c === '{') {
      const labels = readMatchers();
      selectors.push({ metric: '', labels });
    } else {
      const word = readIdent();
      if (word === undefined) throw new Error(`unexpected ${c} at ${i} in ${expr}`);
      skipSpace();
      const lower = word.toLowerCase();
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (expr[i] === '(') grouping.push(...readLabelList());
      } else if (KEYWORDS.has(lower) || AGGREGATIONS.has(lower)) {
        // operator keyword, or an aggregation whose clause or argument follows
      } else if (expr[i] === '(') {
        // function or aggregation
      } else {
        selectors.push({ metric: word, labels: expr[i] === '{' ? readMatchers() : [] });
      }
    }
  }
  return { selectors, grouping };
}

/** Grafana's `label_values(<selector>, <label>)` variable query. */
export function labelValuesQuery(query: string): { selector: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(query);
  return m ? { selector: m[1], label: m[2] } : undefined;
}
