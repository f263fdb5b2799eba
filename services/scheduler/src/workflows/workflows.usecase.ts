import { type Diagnostic, type WorkflowSpec } from '@weft/core';
import { specHash } from './canonical-json.util';
import { SpecChecker } from './spec-checker';
import type { SpecSource } from './spec-source.util';
import { InvalidSpecError, WorkflowError } from './workflow.errors';
import type { VersionRecord, VersionWithSpec, WorkflowRecord, WorkflowRepository } from './workflow.repository';

export interface CreateWorkflowInput {
  /** Required without a spec; with one, it must be the spec's name. */
  name?: string;
  description?: string | null;
  spec?: SpecSource;
}

export interface ResolvedWorkflowRun {
  workflow: WorkflowRecord;
  version: number;
  spec: WorkflowSpec;
}

/**
 * Workflows, drafts and versions of one namespace at a time. A draft is validated with
 * the checks of `weft validate` before it is saved; a version is an immutable copy of a
 * draft, identified by the hash of its canonical JSON.
 */
export class WorkflowsUseCase {
  constructor(
    private readonly repository: WorkflowRepository,
    /** Checks a spec before it is saved (off the event loop when large). */
    private readonly checker: Pick<SpecChecker, 'check'> = new SpecChecker(),
  ) {}

  async create(namespace: string, input: CreateWorkflowInput): Promise<WorkflowRecord> {
    const spec = input.spec ? await this.validated(input.spec, input.name) : undefined;
    const name = spec?.name ?? input.name;
    if (name === undefined) throw new InvalidSpecError('a workflow needs a name or a spec', [problem('name', 'MISSING_FIELD', 'give a name or a spec')]);
    return this.repository.create(namespace, { name, description: input.description ?? spec?.description ?? null, draftSpec: spec ?? null });
  }

  list(namespace: string, page: { after?: string; limit: number }): Promise<WorkflowRecord[]> {
    return this.repository.list(namespace, page);
  }

  async get(namespace: string, ref: string): Promise<WorkflowRecord> {
    const found = await this.repository.find(namespace, ref);
    if (!found) throw notFound(ref);
    return found;
  }

  async update(namespace: string, ref: string, changes: { description?: string | null }): Promise<WorkflowRecord> {
    const workflow = await this.get(namespace, ref);
    const updated = await this.repository.update(namespace, workflow.id, changes);
    if (!updated) throw notFound(ref);
    return updated;
  }

  async delete(namespace: string, ref: string): Promise<void> {
    const workflow = await this.get(namespace, ref);
    if (!(await this.repository.delete(namespace, workflow.id))) throw notFound(ref);
  }

  /**
   * Validates and saves the draft; with `expectedRevision`, only if nobody saved since (else
   * STALE_REVISION, whatever the spec). A spec equal to the current draft (canonical JSON: key
   * order does not matter) saves nothing: the workflow comes back as it is, same revision.
   */
  async saveDraft(namespace: string, ref: string, source: SpecSource, expectedRevision?: number): Promise<WorkflowRecord> {
    const workflow = await this.get(namespace, ref);
    if (expectedRevision !== undefined && expectedRevision !== workflow.draftRevision) throw stale(workflow, expectedRevision);
    const spec = await this.validated(source, workflow.name);
    if (workflow.draftSpec !== null && specHash(workflow.draftSpec) === specHash(spec)) return workflow;
    const saved = await this.repository.saveDraft(namespace, workflow.id, spec, expectedRevision);
    if (saved === undefined) throw notFound(ref);
    if (saved === 'stale') throw stale(workflow, expectedRevision ?? workflow.draftRevision);
    return saved;
  }

  /** Freezes the draft as a version; the same spec as an existing version returns that version (`created: false`). */
  async freeze(namespace: string, ref: string): Promise<{ workflow: WorkflowRecord; version: VersionRecord; created: boolean }> {
    const workflow = await this.get(namespace, ref);
    const frozen = await this.repository.freezeDraft(namespace, workflow.id, specHash);
    return { workflow, ...frozen };
  }

  async versions(namespace: string, ref: string): Promise<{ workflow: WorkflowRecord; versions: VersionRecord[] }> {
    const workflow = await this.get(namespace, ref);
    return { workflow, versions: await this.repository.listVersions(namespace, workflow.name) };
  }

  async version(namespace: string, ref: string, version: number): Promise<{ workflow: WorkflowRecord; version: VersionWithSpec }> {
    const workflow = await this.get(namespace, ref);
    const found = await this.repository.getVersion(namespace, workflow.name, version);
    if (!found) throw new WorkflowError('VERSION_NOT_FOUND', `workflow ${workflow.name} has no version ${version}`);
    return { workflow, version: found };
  }

  async publish(namespace: string, ref: string, version: number): Promise<WorkflowRecord> {
    const workflow = await this.get(namespace, ref);
    return this.repository.publish(namespace, workflow.id, version);
  }

  async archive(namespace: string, ref: string, version: number): Promise<VersionRecord> {
    const workflow = await this.get(namespace, ref);
    return this.repository.archive(namespace, workflow.id, version);
  }

  /** The spec, or InvalidSpecError with every diagnostic (and a name that is not the workflow's). */
  private async validated(source: SpecSource, expectedName: string | undefined): Promise<WorkflowSpec> {
    const { spec, diagnostics } = await this.checker.check(source);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (spec && expectedName !== undefined && spec.name !== expectedName) {
      errors.push(problem('name', 'NAME_MISMATCH', `the spec is named "${spec.name}" but the workflow is "${expectedName}"`));
    }
    if (!spec || errors.length > 0) throw new InvalidSpecError(`the spec has ${errors.length} error(s)`, errors);
    return spec;
  }

  /** The spec a run of the workflow starts with: the given version, or the published one. Archived versions do not run. */
  async resolveForRun(namespace: string, ref: string, version?: number): Promise<ResolvedWorkflowRun> {
    const workflow = await this.get(namespace, ref);
    const wanted = version ?? workflow.publishedVersion;
    if (wanted === null) {
      throw new WorkflowError('NO_PUBLISHED_VERSION', `workflow ${workflow.name} has no published version: publish one, or name a version`);
    }
    const found = await this.repository.getVersion(namespace, workflow.name, wanted);
    if (!found) throw new WorkflowError('VERSION_NOT_FOUND', `workflow ${workflow.name} has no version ${wanted}`);
    if (found.archived) throw new WorkflowError('VERSION_ARCHIVED', `version ${wanted} of ${workflow.name} is archived`);
    return { workflow, version: wanted, spec: found.spec };
  }
}

function problem(path: string, code: string, message: string): Diagnostic {
  return { file: '', line: 0, col: 0, path, code, message, severity: 'error' };
}

const notFound = (ref: string): WorkflowError => new WorkflowError('WORKFLOW_NOT_FOUND', `no workflow ${ref}`);

const stale = (workflow: WorkflowRecord, expected: number): WorkflowError =>
  new WorkflowError('STALE_REVISION', `the draft of ${workflow.name} is at revision ${workflow.draftRevision}, not ${expected}: reload it and apply your change again`);
