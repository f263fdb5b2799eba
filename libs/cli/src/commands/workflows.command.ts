import { readFile } from 'node:fs/promises';
import { resolveInputs } from '@weft/core';
import { WeftApiError } from '@weft/sdk';
import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { followRemoteRun } from '../api-client/run-remote';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import { printList, table } from '../api-client/table.util';
import { inputsFromFlags } from './run-inputs.util';

export interface WorkflowsFlags extends ApiFlags {
  json?: boolean;
}

/**
 * `weft workflows push <file>`: the file becomes the workflow's draft (registered on
 * first push; a spec equal to the draft leaves it unchanged, same revision), then a
 * version (the same spec as an existing version reuses it); `--publish` makes that
 * version the one runs start with.
 */
export async function workflowsPush(file: string, flags: WorkflowsFlags & { publish?: boolean }, io: Io): Promise<number> {
  // The same checks locally first, printed as file:line:col like weft validate.
  const loaded = await loadWorkflow(file);
  printDiagnostics(loaded.diagnostics, io.err);
  const spec = loaded.spec;
  if (!spec) return EXIT.invalid;
  return withApi(io, async () => {
    const client = apiClient(flags);
    const source = await readFile(file, 'utf8');
    const existing = await client.workflows.get(spec.name).catch((error: unknown) => {
      if (error instanceof WeftApiError && error.code === 'WORKFLOW_NOT_FOUND') return undefined;
      throw error;
    });
    const draft = existing ? await client.workflows.saveDraft(spec.name, { source }) : undefined;
    const revision = draft?.revision ?? (await client.workflows.create({ source })).draftRevision;
    // The API saves nothing for a spec equal to the draft: the revision stays where it was.
    const unchanged = existing !== undefined && existing.hasDraft && revision === existing.draftRevision;
    const { version, created } = await client.workflows.freeze(spec.name);
    const published = flags.publish ? await client.workflows.publish(spec.name, version.version) : undefined;
    if (flags.json) {
      io.out(
        JSON.stringify(
          { workflow: spec.name, registered: !existing, draftChanged: !unchanged, draftRevision: revision, version: version.version, newVersion: created, published: published !== undefined },
          null,
          2,
        ),
      );
    } else {
      const draftState = !existing ? 'registered' : unchanged ? 'draft unchanged' : 'draft saved';
      io.out(`${spec.name}: ${draftState} (revision ${revision}); ${created ? `version ${version.version} created` : `same spec as version ${version.version}`}`);
      if (published) io.out(`${spec.name}: version ${version.version} published`);
    }
    return EXIT.ok;
  });
}

export async function workflowsList(flags: WorkflowsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const client = apiClient(flags);
    const all = [];
    for (let cursor: string | undefined, first = true; first || cursor; first = false) {
      const page = await client.workflows.list({ limit: 200, ...(cursor && { cursor }) });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    }
    printList(io, flags, {
      items: all,
      empty: 'no workflows (weft workflows push <file>)',
      header: ['NAME', 'PUBLISHED', 'LATEST', 'DRAFT', 'UPDATED'],
      row: (w) => [w.name, w.publishedVersion?.toString() ?? '-', w.latestVersion?.toString() ?? '-', `rev ${w.draftRevision}`, w.updatedAt],
    });
    return EXIT.ok;
  });
}

export async function workflowsShow(name: string, flags: WorkflowsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const client = apiClient(flags);
    const workflow = await client.workflows.get(name);
    const versions = await client.workflows.versions(name);
    if (flags.json) {
      io.out(JSON.stringify({ ...workflow, versions }, null, 2));
      return EXIT.ok;
    }
    io.out(`${workflow.name} (${workflow.id}) in namespace ${workflow.namespace}`);
    if (workflow.description) io.out(`  ${workflow.description}`);
    io.out(`  draft revision ${workflow.draftRevision}${workflow.hasDraft ? '' : ' (empty)'}; published version ${workflow.publishedVersion ?? 'none'}`);
    if (versions.length > 0) {
      table(
        io,
        ['VERSION', 'STATE', 'HASH', 'CREATED'],
        versions.map((v) => [String(v.version), v.published ? 'published' : v.archived ? 'archived' : '-', v.hash.slice(0, 19), v.createdAt]),
      );
    }
    return EXIT.ok;
  });
}

export async function workflowsPublish(name: string, version: string, flags: WorkflowsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const workflow = await apiClient(flags).workflows.publish(name, versionNumber('version', version));
    io.out(flags.json ? JSON.stringify(workflow, null, 2) : `${workflow.name}: version ${workflow.publishedVersion ?? version} published`);
    return EXIT.ok;
  });
}

/** `weft workflows archive <name> <version>`: the version never runs again (the published one cannot be archived: 409). */
export async function workflowsArchive(name: string, version: string, flags: WorkflowsFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const archived = await apiClient(flags).workflows.archive(name, versionNumber('version', version));
    io.out(flags.json ? JSON.stringify(archived, null, 2) : `${archived.workflow}: version ${archived.version} archived`);
    return EXIT.ok;
  });
}

/**
 * `weft workflows delete <name> --yes`: the workflow, its draft and every version go; its runs
 * keep their spec. Nothing is asked interactively (scripts and CI run it): without --yes it
 * only says what would go and exits 2, before any request.
 */
export async function workflowsDelete(name: string, flags: WorkflowsFlags & { yes?: boolean }, io: Io): Promise<number> {
  return withApi(io, async () => {
    if (!flags.yes) throw new CliUsageError(`deleting ${name} removes its draft and every version (its runs keep their spec): pass --yes to do it`);
    await apiClient(flags).workflows.delete(name);
    io.out(flags.json ? JSON.stringify({ workflow: name, deleted: true }, null, 2) : `${name}: deleted`);
    return EXIT.ok;
  });
}

/** `weft workflows update <name> --description <text>`: an empty text clears it. */
export async function workflowsUpdate(name: string, flags: WorkflowsFlags & { description?: string }, io: Io): Promise<number> {
  return withApi(io, async () => {
    if (flags.description === undefined) throw new CliUsageError('nothing to change: pass --description <text> (an empty text clears it)');
    const description = flags.description.trim() === '' ? null : flags.description;
    const workflow = await apiClient(flags).workflows.update(name, { description });
    io.out(flags.json ? JSON.stringify(workflow, null, 2) : `${workflow.name}: ${workflow.description === null ? 'description cleared' : `description set to ${JSON.stringify(workflow.description)}`}`);
    return EXIT.ok;
  });
}

export interface WorkflowsRunFlags extends WorkflowsFlags {
  /** A stored version; default: the published one. */
  version?: string;
  input?: string[];
  inputsFile?: string;
  async?: boolean;
  idempotencyKey?: string;
}

/**
 * `weft workflows run <name>`: starts a run of the published (or `--workflow-version`) stored
 * version. The inputs are typed and checked against that version's spec here, as `weft run`
 * does (exit 2 before anything starts). By default it follows the run to its end exactly as
 * `weft run --api` does (same view, `--json` document and exit codes; Ctrl-C cancels it);
 * `--async` prints the run id and exits 0.
 */
export async function workflowsRun(name: string, flags: WorkflowsRunFlags, io: Io, signals: NodeJS.EventEmitter = process): Promise<number> {
  return withApi(io, async () => {
    const requested = flags.version === undefined ? undefined : versionNumber('--workflow-version', flags.version);
    if (flags.idempotencyKey?.trim() === '') throw new CliUsageError('--idempotency-key: expected a key');
    const given = await inputsFromFlags(flags);
    const client = apiClient(flags);
    const version = requested ?? (await client.workflows.get(name)).publishedVersion;
    if (version === null) throw new CliUsageError(`${name} has no published version: weft workflows publish ${name} <version>, or pass --workflow-version <n>`);
    const { spec } = await client.workflows.version(name, version);
    const resolved = resolveInputs(spec, given, { fromStrings: true });
    printDiagnostics(resolved.diagnostics, io.err);
    if (resolved.diagnostics.some((d) => d.severity === 'error')) return EXIT.invalid;
    // The version resolved above, not "published": the run is the one whose inputs were checked.
    const request = { version, inputs: resolved.inputs, ...(flags.idempotencyKey !== undefined && { idempotencyKey: flags.idempotencyKey }) };
    const start = async () => {
      const accepted = await client.workflows.start(name, request);
      if (!accepted.created) io.err(`run ${accepted.runId}: started earlier with idempotency key ${request.idempotencyKey ?? ''}`);
      return accepted;
    };
    if (flags.async) {
      const accepted = await start();
      if (flags.json) io.out(JSON.stringify(accepted, null, 2));
      else {
        io.out(accepted.runId);
        io.err(`${name} version ${version}: run ${accepted.runId} ${accepted.status} (weft logs ${accepted.runId} --follow)`);
      }
      return EXIT.ok;
    }
    // Started and streamed in one request, so no event is missed between the two.
    return followRemoteRun(client, client.workflows.follow(name, request), { json: flags.json, spec }, io, signals);
  });
}

function versionNumber(what: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new CliUsageError(`${what}: expected a version number (got ${JSON.stringify(value)})`);
  return Number(value);
}
