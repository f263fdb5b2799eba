import type { WorkflowSpec } from '@weft/core';

/** A registered workflow with its draft; times are epoch ms. */
export interface WorkflowRecord {
  id: string;
  namespace: string;
  name: string;
  description: string | null;
  draftSpec: WorkflowSpec | null;
  /** Bumped on every draft save that changes the spec (0: never saved). */
  draftRevision: number;
  publishedVersion: number | null;
  /** Highest version number, archived ones included; null before the first. */
  latestVersion: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface VersionRecord {
  namespace: string;
  /** The workflow's name. */
  workflow: string;
  version: number;
  hash: string;
  archived: boolean;
  createdAt: number;
}

export interface VersionWithSpec extends VersionRecord {
  spec: WorkflowSpec;
}

export interface NewWorkflow {
  name: string;
  description: string | null;
  draftSpec: WorkflowSpec | null;
}

/**
 * Workflows, their drafts and immutable versions, always within one namespace: a
 * workflow of another namespace is simply not found. `ref` is a workflow's id or its name.
 */
export interface WorkflowRepository {
  /** Throws WorkflowError WORKFLOW_EXISTS when the namespace already has the name. */
  create(namespace: string, workflow: NewWorkflow): Promise<WorkflowRecord>;
  /** By name; `after` is the last name of the previous page. */
  list(namespace: string, page: { after?: string; limit: number }): Promise<WorkflowRecord[]>;
  find(namespace: string, ref: string): Promise<WorkflowRecord | undefined>;
  /** Undefined when the workflow does not exist. */
  update(namespace: string, id: string, changes: { description?: string | null }): Promise<WorkflowRecord | undefined>;
  /** Deletes the workflow and its versions (runs keep their own copy of the spec). */
  delete(namespace: string, id: string): Promise<boolean>;
  /**
   * Replaces the draft and bumps its revision, only while the revision is still
   * `expectedRevision` (when given). `stale` when it moved on; undefined when the workflow is gone.
   */
  saveDraft(namespace: string, id: string, spec: WorkflowSpec, expectedRevision?: number): Promise<WorkflowRecord | 'stale' | undefined>;
  /**
   * Freezes the current draft as the next version, unless a version with the same
   * hash exists: then that one is returned with `created: false`. Serialised per workflow.
   */
  freezeDraft(namespace: string, id: string, hash: (spec: WorkflowSpec) => string): Promise<{ version: VersionRecord; created: boolean }>;
  listVersions(namespace: string, workflow: string): Promise<VersionRecord[]>;
  getVersion(namespace: string, workflow: string, version: number): Promise<VersionWithSpec | undefined>;
  /** Makes `version` the one runs start by default. Throws VERSION_NOT_FOUND or VERSION_ARCHIVED. */
  publish(namespace: string, id: string, version: number): Promise<WorkflowRecord>;
  /** Throws VERSION_NOT_FOUND, or VERSION_PUBLISHED for the published version. */
  archive(namespace: string, id: string, version: number): Promise<VersionRecord>;
}
