import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, enc, qs } from '../api/client';
import type { Page, Workflow } from '@weft/sdk';
import { formatTime, Loading, ProblemMessage } from '../components/common';
import { Link, navigate } from '../router';

const STARTER = `apiVersion: weft/v1
kind: Workflow
name: my-workflow
inputs:
  count: { type: integer, default: 1 }
steps:
  - id: first
    action: transform
    with: { expr: "inputs.count + 1" }
`;

export function WorkflowsPage(): React.JSX.Element {
  const client = useQueryClient();
  const list = useInfiniteQuery({
    queryKey: ['workflows'],
    queryFn: ({ pageParam, signal }) => api<Page<Workflow>>(`/v1/workflows${qs({ limit: 100, cursor: pageParam })}`, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const [creating, setCreating] = useState(false);
  const [source, setSource] = useState(STARTER);
  const create = useMutation({
    mutationFn: () => api<Workflow>('/v1/workflows', { method: 'POST', body: { source } }),
    onSuccess: (w) => {
      void client.invalidateQueries({ queryKey: ['workflows'] });
      navigate(`/workflows/${enc(w.name)}?tab=draft`);
    },
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="page">
      <div className="row">
        <h1>Workflows</h1>
        <span className="spacer" />
        <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          New workflow
        </button>
      </div>
      {creating && (
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <label htmlFor="new-source">Spec (YAML)</label>
          <textarea id="new-source" className="code" rows={12} value={source} onChange={(e) => setSource(e.target.value)} spellCheck={false} />
          <ProblemMessage error={create.error} title="Not created" />
          <div className="row end">
            <button type="submit" className="primary" disabled={create.isPending}>
              Create
            </button>
          </div>
        </form>
      )}
      {list.isPending && <Loading what="workflows" />}
      <ProblemMessage error={list.error} title="Could not list workflows" />
      <table className="wide">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Published</th>
            <th>Latest</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((w) => (
            <tr key={w.id} data-testid="workflow-row">
              <td>
                <Link to={`/workflows/${enc(w.name)}`}>{w.name}</Link>
              </td>
              <td className="muted">{w.description ?? ''}</td>
              <td>{w.publishedVersion ?? '—'}</td>
              <td>{w.latestVersion ?? '—'}</td>
              <td>{formatTime(w.updatedAt)}</td>
              <td className="row">
                <Link to={`/workflows/${enc(w.name)}?tab=start`}>Start a run</Link>
                <Link to={`/runs${qs({ workflow: w.name })}`}>Runs</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.isSuccess && rows.length === 0 && <p className="empty">No workflows yet: create one, or `weft workflows push flow.yaml --publish`.</p>}
      {list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}
