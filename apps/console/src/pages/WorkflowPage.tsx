import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { stringify } from 'yaml';
import { api, ApiError, enc, qs, request } from '../api/client';
import type { CatalogAction, ValidationDiagnostic as Diagnostic, Draft, InputDecl, RunAccepted, ValidationResult, Version, VersionDetail, Workflow } from '@weft/sdk';
import { Confirm, formatTime, Loading, ProblemMessage, useDebounced } from '../components/common';
import { Link, navigate, setQuery, useLocation } from '../router';
import { sideBySide } from './diff.util';
import type { JsonSchemaNode } from './schema-complete.util';
import { useSchemaCompletion } from './SchemaCompletion';

const TABS = ['versions', 'diff', 'draft', 'start'] as const;
type Tab = (typeof TABS)[number];
const SPEC_ORDER = ['apiVersion', 'kind', 'name', 'description', 'inputs', 'defaults', 'timeout', 'onFailure', 'steps', 'outputs'];
const STEP_ORDER = ['id', 'name', 'needs', 'if', 'action', 'with'];
function ordered(value: unknown, order: string[]): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const rank = (k: string): number => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.fromEntries(entries.sort(([a], [b]) => rank(a) - rank(b)));
}
/** The spec as YAML in the order people write it (the API stores canonical JSON, keys sorted). */
const toYaml = (spec: unknown): string => {
  const top = ordered(spec, SPEC_ORDER) as Record<string, unknown> | null;
  if (top && Array.isArray(top.steps)) top.steps = top.steps.map((s) => ordered(s, STEP_ORDER));
  return stringify(top, { lineWidth: 0 });
};

export function WorkflowPage({ name }: { name: string }): React.JSX.Element {
  const { query } = useLocation();
  const tab = (TABS as readonly string[]).includes(query.get('tab') ?? '') ? (query.get('tab') as Tab) : 'versions';
  const workflow = useQuery({ queryKey: ['workflow', name], queryFn: ({ signal }) => api<Workflow>(`/v1/workflows/${enc(name)}`, { signal }) });
  const versions = useQuery({ queryKey: ['versions', name], queryFn: ({ signal }) => api<{ items: Version[] }>(`/v1/workflows/${enc(name)}/versions`, { signal }) });
  if (workflow.isPending) return <Loading what="workflow" />;
  if (workflow.error || !workflow.data) return <ProblemMessage error={workflow.error} title={`Could not load workflow ${name}`} />;
  const w = workflow.data;
  return (
    <section className="page">
      <div className="row wrap">
        <h1>{w.name}</h1>
        <span className="muted">{w.description}</span>
        <span className="spacer" />
        <Link to={`/runs${qs({ workflow: w.name })}`}>Runs</Link>
        <Link to={`/insights${qs({ workflow: w.name })}`}>Insights</Link>
      </div>
      <div className="tabs" role="tablist" aria-label="Workflow">
        {TABS.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setQuery({ tab: t === 'versions' ? null : t })} data-testid={`tab-${t}`}>
            {t === 'draft' ? 'Draft editor' : t === 'start' ? 'Start a run' : t === 'diff' ? 'Compare versions' : 'Versions'}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        <ProblemMessage error={versions.error} title="Could not list versions" />
        {tab === 'versions' && <Versions workflow={w} versions={versions.data?.items ?? []} />}
        {tab === 'diff' && <Diff name={w.name} versions={versions.data?.items ?? []} />}
        {tab === 'draft' && <DraftEditor workflow={w} />}
        {tab === 'start' && <StartRun workflow={w} versions={versions.data?.items ?? []} />}
      </div>
    </section>
  );
}

function Versions({ workflow, versions }: { workflow: Workflow; versions: Version[] }): React.JSX.Element {
  const client = useQueryClient();
  const [pending, setPending] = useState<{ op: 'publish' | 'archive'; version: number } | null>(null);
  const act = useMutation({
    mutationFn: (p: { op: 'publish' | 'archive'; version: number }) => api<unknown>(`/v1/workflows/${enc(workflow.name)}/versions/${p.version}/${p.op}`, { method: 'POST' }),
    onSuccess: () => {
      setPending(null);
      void client.invalidateQueries({ queryKey: ['versions', workflow.name] });
      void client.invalidateQueries({ queryKey: ['workflow', workflow.name] });
    },
  });
  return (
    <>
      <table className="wide">
        <thead>
          <tr>
            <th>Version</th>
            <th>State</th>
            <th>Created</th>
            <th>Hash</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-testid="version-row">
              <td>v{v.version}</td>
              <td>{v.published ? <span className="badge s-completed">published</span> : v.archived ? <span className="badge s-canceled">archived</span> : 'ready'}</td>
              <td>{formatTime(v.createdAt)}</td>
              <td className="mono muted small">{v.hash.slice(0, 19)}</td>
              <td className="row">
                {!v.published && !v.archived && (
                  <button type="button" onClick={() => setPending({ op: 'publish', version: v.version })}>
                    Publish
                  </button>
                )}
                {!v.published && !v.archived && (
                  <button type="button" onClick={() => setPending({ op: 'archive', version: v.version })}>
                    Archive
                  </button>
                )}
                <Link to={`/workflows/${enc(workflow.name)}?tab=diff&a=${Math.max(1, v.version - 1)}&b=${v.version}`}>Diff</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {versions.length === 0 && <p className="empty">No versions yet: freeze the draft in the draft editor.</p>}
      <Confirm
        open={pending !== null}
        title={pending ? `${pending.op === 'publish' ? 'Publish' : 'Archive'} version ${pending.version}?` : ''}
        confirmLabel={pending?.op === 'publish' ? 'Publish' : 'Archive'}
        danger={pending?.op === 'archive'}
        onCancel={() => {
          act.reset();
          setPending(null);
        }}
        onConfirm={() => pending && act.mutate(pending)}
      >
        {pending?.op === 'publish' ? <p>New runs of {workflow.name} will start with this version.</p> : <p>An archived version never runs again.</p>}
        <ProblemMessage error={act.error} title="The server refused" />
      </Confirm>
    </>
  );
}

function useVersion(name: string, version: number | null): ReturnType<typeof useQuery<VersionDetail>> {
  return useQuery({
    queryKey: ['version', name, version],
    queryFn: ({ signal }) => api<VersionDetail>(`/v1/workflows/${enc(name)}/versions/${version ?? 0}`, { signal }),
    enabled: version !== null,
    staleTime: Infinity,
  });
}

function Diff({ name, versions }: { name: string; versions: Version[] }): React.JSX.Element {
  const { query } = useLocation();
  const newest = versions[0]?.version ?? null;
  const b = Number(query.get('b') ?? newest ?? 0) || null;
  const a = Number(query.get('a') ?? (b && b > 1 ? b - 1 : b) ?? 0) || null;
  const left = useVersion(name, a);
  const right = useVersion(name, b);
  const rows = useMemo(
    () => (left.data && right.data ? sideBySide(toYaml(left.data.spec).split('\n'), toYaml(right.data.spec).split('\n')) : []),
    [left.data, right.data],
  );
  const pick = (side: 'a' | 'b', value: number | null): React.JSX.Element => (
    <select value={value ?? ''} onChange={(e) => setQuery({ [side]: e.target.value })} aria-label={side === 'a' ? 'Left version' : 'Right version'}>
      {versions.map((v) => (
        <option key={v.version} value={v.version}>
          v{v.version}
        </option>
      ))}
    </select>
  );
  if (versions.length === 0) return <p className="empty">No versions to compare.</p>;
  const changes = rows.filter((r) => r.kind !== 'same').length;
  return (
    <div>
      <div className="row">
        {pick('a', a)} ⟷ {pick('b', b)} <span className="muted">{changes === 0 ? 'identical specs' : `${changes} changed line(s)`}</span>
      </div>
      <ProblemMessage error={left.error ?? right.error} />
      <div className="diff mono small" data-testid="diff">
        {rows.map((r, i) => (
          <div key={i} className={`diff-row ${r.kind}`}>
            <span className="ln">{r.leftNo ?? ''}</span>
            <span className="code-line left">{r.left ?? ''}</span>
            <span className="ln">{r.rightNo ?? ''}</span>
            <span className="code-line right">{r.right ?? ''}</span>
          </div>
        ))}
      </div>
    </div>
  );
}

/** Caret position for a 1-based line and column in the text. */
function offsetOf(text: string, line: number, col: number): number {
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += (lines[i]?.length ?? 0) + 1;
  return offset + Math.max(0, col - 1);
}

function DraftEditor({ workflow }: { workflow: Workflow }): React.JSX.Element {
  const client = useQueryClient();
  const draft = useQuery({ queryKey: ['draft', workflow.name], queryFn: ({ signal }) => api<Draft>(`/v1/workflows/${enc(workflow.name)}/draft`, { signal }) });
  const [source, setSource] = useState<string | null>(null);
  const [revision, setRevision] = useState<number | null>(null);
  useEffect(() => {
    if (draft.data && source === null) {
      setSource(draft.data.spec ? toYaml(draft.data.spec) : '');
      setRevision(draft.data.revision);
    }
  }, [draft.data, source]);
  const text = source ?? '';
  const debounced = useDebounced(text, 300);
  // Validation as you type: POST /v1/validate answers the diagnostics of `weft validate`, positioned in the text.
  const validation = useQuery({
    queryKey: ['validate', debounced],
    queryFn: ({ signal }) => api<ValidationResult>('/v1/validate', { method: 'POST', body: { source: debounced }, signal }),
    enabled: source !== null && debounced.trim() !== '',
    placeholderData: (prev) => prev,
  });
  const save = useMutation({
    mutationFn: async (): Promise<Draft> => {
      const res = await request(`/v1/workflows/${enc(workflow.name)}/draft`, { method: 'PATCH', body: { source: text }, headers: revision !== null ? { 'If-Match': `"${revision}"` } : {} });
      return (await res.json()) as Draft;
    },
    onSuccess: (d) => {
      setRevision(d.revision);
      client.setQueryData(['draft', workflow.name], d);
    },
  });
  const freeze = useMutation({
    mutationFn: () => api<Version>(`/v1/workflows/${enc(workflow.name)}/versions`, { method: 'POST' }),
    onSuccess: (v) => {
      void client.invalidateQueries({ queryKey: ['versions', workflow.name] });
      void client.invalidateQueries({ queryKey: ['workflow', workflow.name] });
      navigate(`/workflows/${enc(workflow.name)}?tab=versions#v${v.version}`);
    },
  });
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  // Completion from the workflow JSON Schema; `action:` values from the catalog (the palette's query).
  const catalog = useQuery({ queryKey: ['catalog-actions'], queryFn: ({ signal }) => api<{ items: CatalogAction[] }>('/v1/catalog/actions', { signal }), staleTime: 60_000 });
  const known = useMemo(() => ({ action: (catalog.data?.items ?? []).map((a) => a.name) }), [catalog.data]);
  // Inside a step's with:, the keys of its action's input schema.
  const actionInputs = useMemo(
    () => Object.fromEntries((catalog.data?.items ?? []).flatMap((a) => (a.inputSchema ? [[a.name, a.inputSchema as JsonSchemaNode] as const] : []))),
    [catalog.data],
  );
  const completion = useSchemaCompletion(area, setSource, known, actionInputs);
  const jump = (d: Diagnostic): void => {
    if (!area.current || d.line === undefined) return;
    const at = offsetOf(text, d.line, d.col ?? 1);
    area.current.focus();
    area.current.setSelectionRange(at, at);
  };
  if (draft.isPending || source === null) return draft.error ? <ProblemMessage error={draft.error} /> : <Loading what="draft" />;
  const diags = [...(validation.data?.diagnostics ?? [])].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0));
  const errorLines = new Set(diags.filter((d) => d.severity === 'error').map((d) => d.line));
  const lineCount = text.split('\n').length;
  const stale = save.error instanceof ApiError && save.error.code === 'STALE_REVISION';
  return (
    <div className="editor-layout">
      <div className="editor">
        <div className="gutter mono" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, i) => (
            <div key={i} className={errorLines.has(i + 1) ? 'err' : undefined}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          ref={area}
          className="code"
          value={text}
          onChange={(e) => {
            setSource(e.target.value);
            completion.onTyped(e.target, e.target.value);
          }}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
            completion.close();
          }}
          onClick={completion.close}
          onBlur={completion.close}
          {...completion.inputProps}
          spellCheck={false}
          aria-label="Draft spec (YAML)"
          data-testid="draft-editor"
          onKeyDown={(e) => {
            if (completion.onKeyDown(e)) return;
            // Tab indents (two spaces) instead of leaving the editor; Escape then Tab leaves it.
            if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && e.currentTarget.dataset.escaped !== '1') {
              e.preventDefault();
              const el = e.currentTarget;
              const { selectionStart: s, selectionEnd: end } = el;
              // In the element at once (as completion does), so keys typed next land after the indent.
              el.value = el.value.slice(0, s) + '  ' + el.value.slice(end);
              el.setSelectionRange(s + 2, s + 2);
              setSource(el.value);
            }
            e.currentTarget.dataset.escaped = e.key === 'Escape' ? '1' : '';
          }}
        />
        {completion.list}
      </div>
      <aside className="editor-side">
        <div className="row">
          <strong data-testid="validation-state">{validation.isFetching ? 'checking…' : validation.data ? (validation.data.valid ? '✓ valid' : `${diags.length} problem(s)`) : ''}</strong>
          <span className="muted small">revision {revision}</span>
        </div>
        <ul className="diagnostics" data-testid="diagnostics">
          {diags.map((d, i) => (
            <li key={i} className={d.severity}>
              <button type="button" className="link" onClick={() => jump(d)} disabled={d.line === undefined}>
                {d.line !== undefined ? `${d.line}:${d.col ?? 1}` : d.path}
              </button>{' '}
              {d.message} <code>{d.code}</code>
              {d.hint && <div className="muted small">{d.hint}</div>}
            </li>
          ))}
        </ul>
        <ActionPalette
          onInsert={(action) => {
            // At the caret's line, indented like it; at the end when the editor never had focus.
            const el = area.current;
            const at = el ? text.lastIndexOf('\n', Math.max(0, el.selectionStart - 1)) + 1 : text.length;
            const indent = /^\s*/.exec(text.slice(at))?.[0].replace(/\n/g, '') ?? '  ';
            setSource(text.slice(0, at) + stepSnippet(action, indent || '  ') + text.slice(at));
          }}
        />
        <ProblemMessage error={validation.error} title="Validation failed" />
        <ProblemMessage error={save.error} title={stale ? 'The draft changed since you opened it: reload to see it' : 'Not saved'} />
        <ProblemMessage error={freeze.error} title="Not frozen" />
        <div className="row">
          <button type="button" className="primary" onClick={() => save.mutate()} disabled={save.isPending}>
            Save draft
          </button>
          <button type="button" onClick={() => freeze.mutate()} disabled={freeze.isPending || save.isPending}>
            Freeze as a version
          </button>
          {stale && (
            <button type="button" onClick={() => (setSource(null), save.reset(), void draft.refetch())}>
              Reload
            </button>
          )}
        </div>
        {save.isSuccess && <p className="muted small">Saved (revision {save.data.revision}).</p>}
      </aside>
    </div>
  );
}

/** The part of an action's input JSON Schema a step snippet reads. */
interface InputSchema {
  properties?: Record<string, { type?: string; description?: string }>;
  required?: string[];
}

/** A step for `action` as YAML, its `with:` keys taken from the action's input JSON Schema (required ones first). */
function stepSnippet(action: CatalogAction, indent: string): string {
  const schema = action.inputSchema as InputSchema | null;
  const props = Object.entries(schema?.properties ?? {});
  const required = new Set(schema?.required ?? []);
  props.sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)));
  const placeholder = (type?: string): string => (type === 'integer' || type === 'number' ? '0' : type === 'boolean' ? 'false' : type === 'object' ? '{}' : type === 'array' ? '[]' : '""');
  const lines = [`${indent}- id: ${action.name.replace(/[^a-z0-9]+/gi, '_')}`, `${indent}  action: ${action.name}`];
  if (props.length > 0) {
    lines.push(`${indent}  with:`);
    for (const [key, schema] of props.slice(0, 12)) lines.push(`${indent}    ${key}: ${placeholder(schema.type)}${required.has(key) ? '  # required' : ''}${schema.description ? `  # ${schema.description.split('\n')[0]}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Completion from the catalog: the actions this deployment can run, each inserted as a step with its inputs. */
function ActionPalette({ onInsert }: { onInsert: (action: CatalogAction) => void }): React.JSX.Element {
  const catalog = useQuery({ queryKey: ['catalog-actions'], queryFn: ({ signal }) => api<{ items: CatalogAction[] }>('/v1/catalog/actions', { signal }), staleTime: 60_000 });
  const [filter, setFilter] = useState('');
  const items = (catalog.data?.items ?? []).filter((a) => a.name.includes(filter.trim()));
  return (
    <details className="palette">
      <summary>Insert a step…</summary>
      <input type="search" placeholder="action" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter actions" />
      <ul>
        {items.slice(0, 50).map((a) => (
          <li key={a.name}>
            <button type="button" className="link" onClick={() => onInsert(a)} title={a.description ?? ''} data-testid="insert-action">
              {a.name}
            </button>{' '}
            <span className="muted small">{a.description?.split('. ')[0] ?? ''}</span>
          </li>
        ))}
      </ul>
      <ProblemMessage error={catalog.error} />
    </details>
  );
}

function fieldValue(decl: InputDecl, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  switch (decl.type) {
    case 'integer':
    case 'number':
      return raw === '' ? undefined : Number(raw);
    case 'object':
    case 'array':
      return raw === '' ? undefined : (JSON.parse(raw) as unknown);
    case 'boolean':
      return raw === 'true';
    case 'string':
      return raw === '' ? undefined : raw;
  }
}

/** The run form, generated from the chosen version's `inputs:`. */
function StartRun({ workflow, versions }: { workflow: Workflow; versions: Version[] }): React.JSX.Element {
  const runnable = versions.filter((v) => !v.archived);
  const [chosen, setChosen] = useState<number | null>(null);
  const version = chosen ?? workflow.publishedVersion ?? runnable[0]?.version ?? null;
  const detail = useVersion(workflow.name, version);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [correlationId, setCorrelationId] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  const inputs = detail.data?.spec.inputs ?? {};
  const start = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<RunAccepted>(`/v1/workflows/${enc(workflow.name)}/runs`, { method: 'POST', body }),
    onSuccess: (r) => navigate(`/runs/${r.runId}`),
  });
  if (versions.length === 0) return <p className="empty">No version to run: freeze and publish the draft first.</p>;
  const submit = (e: React.FormEvent): void => {
    e.preventDefault();
    setFormError(null);
    const out: Record<string, unknown> = {};
    try {
      for (const [k, decl] of Object.entries(inputs)) {
        const raw = values[k];
        if (raw === undefined) continue;
        const v = fieldValue(decl, raw);
        if (v !== undefined) out[k] = v;
      }
    } catch (error) {
      setFormError(`An object or array input is not JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    start.mutate({ inputs: out, ...(version !== null && version !== workflow.publishedVersion && { version }), ...(correlationId && { correlationId }) });
  };
  return (
    <form className="card start-form" onSubmit={submit} data-testid="start-form">
      <label>
        Version{' '}
        <select value={version ?? ''} onChange={(e) => (setChosen(Number(e.target.value)), setValues({}))}>
          {runnable.map((v) => (
            <option key={v.version} value={v.version}>
              v{v.version}
              {v.published ? ' (published)' : ''}
            </option>
          ))}
        </select>
      </label>
      {detail.isPending && <Loading what="inputs" />}
      <ProblemMessage error={detail.error} />
      {Object.keys(inputs).length === 0 && detail.isSuccess && <p className="muted">This version takes no inputs.</p>}
      {Object.entries(inputs).map(([k, decl]) => {
        const id = `input-${k}`;
        const label = (
          <label htmlFor={id}>
            {k}
            {decl.required ? ' *' : ''} <span className="muted small">{decl.type}</span>
          </label>
        );
        const hint = decl.description ? <div className="muted small">{decl.description}</div> : null;
        if (decl.type === 'boolean')
          return (
            <div key={k} className="field">
              <label>
                <input id={id} type="checkbox" checked={Boolean(values[k] ?? decl.default ?? false)} onChange={(e) => setValues({ ...values, [k]: e.target.checked })} /> {k}
              </label>
              {hint}
            </div>
          );
        const def = decl.default === undefined ? '' : typeof decl.default === 'string' ? decl.default : JSON.stringify(decl.default);
        return (
          <div key={k} className="field">
            {label}
            {decl.type === 'object' || decl.type === 'array' ? (
              <textarea id={id} className="code" rows={4} placeholder={def} value={String(values[k] ?? '')} onChange={(e) => setValues({ ...values, [k]: e.target.value })} />
            ) : (
              <input
                id={id}
                type={decl.type === 'string' ? 'text' : 'number'}
                step={decl.type === 'integer' ? 1 : 'any'}
                required={decl.required === true && decl.default === undefined}
                placeholder={def ? `default ${def}` : ''}
                value={String(values[k] ?? '')}
                onChange={(e) => setValues({ ...values, [k]: e.target.value })}
                data-testid={id}
              />
            )}
            {hint}
          </div>
        );
      })}
      <div className="field">
        <label htmlFor="correlation">Correlation id (optional)</label>
        <input id="correlation" type="text" value={correlationId} onChange={(e) => setCorrelationId(e.target.value)} />
      </div>
      {formError && (
        <div className="problem" role="alert">
          {formError}
        </div>
      )}
      <ProblemMessage error={start.error} title="The run was not started" />
      <div className="row end">
        <button type="submit" className="primary" disabled={start.isPending || version === null} data-testid="start-run">
          Start run
        </button>
      </div>
    </form>
  );
}
