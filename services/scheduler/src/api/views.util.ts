import { childRuns, errorView as errorOf, isoOrNull as iso, type RunState, spanOrNull as span, stepView } from '@weft/core';
import type { ApiKeyRecord } from '@weft/platform';
import { isBlobRef } from '@weft/contracts';
import type { RunLinks, RunListing } from '../persistence/run-directory.repository';
import type { VersionRecord, VersionWithSpec, WorkflowRecord } from '../workflows';
import type { ApiKeyView, DraftView, RunSummaryView, RunView, StepView, VersionDetailView, VersionView, WorkflowView } from './api.schemas';

/** Domain records -> the API's JSON shapes (times as ISO 8601; absent values as null). */

export function workflowView(w: WorkflowRecord): WorkflowView {
  return {
    id: w.id,
    namespace: w.namespace,
    name: w.name,
    description: w.description,
    draftRevision: w.draftRevision,
    hasDraft: w.draftSpec !== null,
    publishedVersion: w.publishedVersion,
    latestVersion: w.latestVersion,
    createdAt: new Date(w.createdAt).toISOString(),
    updatedAt: new Date(w.updatedAt).toISOString(),
  };
}

export function draftView(w: WorkflowRecord): DraftView {
  return { workflowId: w.id, workflow: w.name, revision: w.draftRevision, spec: w.draftSpec, updatedAt: new Date(w.updatedAt).toISOString() };
}

export function versionView(w: WorkflowRecord, v: VersionRecord): VersionView {
  return {
    workflowId: w.id,
    workflow: w.name,
    version: v.version,
    hash: v.hash,
    archived: v.archived,
    published: w.publishedVersion === v.version,
    createdAt: new Date(v.createdAt).toISOString(),
  };
}

export function versionDetailView(w: WorkflowRecord, v: VersionWithSpec): VersionDetailView {
  return { ...versionView(w, v), spec: v.spec };
}

export function runSummaryView(r: RunListing): RunSummaryView {
  return {
    runId: r.runId,
    workflow: r.workflow,
    version: r.version,
    status: r.status,
    createdAt: new Date(r.createdAt).toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: span(r.startedAt, r.finishedAt),
    error: errorOf(r.error),
    correlationId: r.correlationId,
  };
}

/** A run with its steps in plan order; step fields mean what they mean in `weft run --json`. */
export function runView(state: RunState, namespace: string, links: RunLinks): RunView {
  return {
    runId: state.runId,
    namespace,
    workflow: state.workflow,
    version: state.version,
    status: state.status,
    createdAt: new Date(state.createdAt).toISOString(),
    startedAt: iso(state.startedAt),
    finishedAt: iso(state.finishedAt),
    durationMs: span(state.startedAt, state.finishedAt),
    error: errorOf(state.error),
    correlationId: state.correlationId ?? null,
    inputs: withPayloadLink(state.inputs, `/v1/runs/${encodeURIComponent(state.runId)}/inputs`),
    outputs: withPayloadLink(state.outputs ?? null, `/v1/runs/${encodeURIComponent(state.runId)}/outputs`),
    rerunOf: links.rerunOf ? { runId: links.rerunOf.sourceRunId, fromStep: links.rerunOf.fromStep } : null,
    reruns: links.reruns.map((r) => ({ runId: r.runId, fromStep: r.fromStep, createdAt: new Date(r.createdAt).toISOString() })),
    source: state.source ?? null,
    actor: state.actor ?? null,
    parentRunId: state.parent?.runId ?? null,
    children: childRuns(state),
    steps: state.plan.map(({ id }): StepView => ({
      ...withOutputLink(stepView(state, id), state.runId),
      reusedFrom: (Object.hasOwn(state.steps, id) ? state.steps[id].reusedFrom : undefined) ?? null,
    })),
    spec: state.spec,
  };
}

/** Run inputs or outputs stored by reference show their summary and where to fetch them: `{ $weftBlob, size, href }`. */
export function withPayloadLink<V>(value: V, href: string): V {
  return isBlobRef(value) ? ({ ...value, href } as V) : value;
}

/** A large output (stored by reference) shows its summary and where to fetch it: `{ $weftBlob, size, href }`. */
function withOutputLink<V extends { id: string; output: unknown }>(view: V, runId: string): V {
  if (!isBlobRef(view.output)) return view;
  return { ...view, output: { ...view.output, href: `/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(view.id)}/output` } };
}

export function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  return { keyId: k.id, namespace: k.namespace, name: k.name, createdAt: new Date(k.createdAt).toISOString(), revokedAt: iso(k.revokedAt) };
}
