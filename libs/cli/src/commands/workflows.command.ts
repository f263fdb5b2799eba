import { readFile } from 'node:fs/promises';
import { WeftApiError } from '@weft/sdk';
import { type ApiFlags, apiClient, CliUsageError, withApi } from '../api-client/api-connection';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { loadWorkflow, printDiagnostics } from '../load-workflow';
import { table } from '../api-client/table.util';

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
    if (flags.json) io.out(JSON.stringify(all, null, 2));
    else if (all.length === 0) io.out('no workflows (weft workflows push <file>)');
    else {
      table(
        io,
        ['NAME', 'PUBLISHED', 'LATEST', 'DRAFT', 'UPDATED'],
        all.map((w) => [w.name, w.publishedVersion?.toString() ?? '-', w.latestVersion?.toString() ?? '-', `rev ${w.draftRevision}`, w.updatedAt]),
      );
    }
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
    if (!/^[1-9]\d*$/.test(version)) throw new CliUsageError(`version: expected a version number (got ${JSON.stringify(version)})`);
    const workflow = await apiClient(flags).workflows.publish(name, Number(version));
    io.out(flags.json ? JSON.stringify(workflow, null, 2) : `${workflow.name}: version ${workflow.publishedVersion ?? version} published`);
    return EXIT.ok;
  });
}
