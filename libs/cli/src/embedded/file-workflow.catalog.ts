import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { WorkflowSpec } from '@weft/core';
import type { WorkflowCatalog } from '@weft/scheduler';
import { loadWorkflow } from '../load-workflow';

/** Workflow files a folder may hold (the SDK's modules too). */
const WORKFLOW_EXTENSIONS = new Set(['.yaml', '.yml', '.json', '.ts', '.js']);
/** Files read per folder when looking a name up: a folder is not a database. */
const MAX_FILES_PER_DIR = 500;

/**
 * `weft run`'s children (`action: workflow`): a workflow named N is the file `N.yaml` (.yml,
 * .json, .ts, .js) in the parent's folder or a `--workflows` folder, else the first file there
 * whose spec is named N. Versions do not apply to files: a child runs the file as it is (version `file`).
 */
export class FileWorkflowCatalog implements WorkflowCatalog {
  private readonly dirs: string[];
  private readonly found = new Map<string, WorkflowSpec>();

  constructor(parentFile: string, workflowDirs: readonly string[] = []) {
    this.dirs = [...new Set([dirname(resolve(parentFile)), ...workflowDirs.map((d) => resolve(d))])];
  }

  async resolve(workflow: string): Promise<{ spec: WorkflowSpec; version: string } | undefined> {
    const spec = this.found.get(workflow) ?? (await this.lookUp(workflow));
    if (spec === undefined) return undefined;
    this.found.set(workflow, spec);
    return { spec, version: 'file' };
  }

  private async lookUp(workflow: string): Promise<WorkflowSpec | undefined> {
    for (const dir of this.dirs) {
      let files: string[];
      try {
        files = (await readdir(dir)).filter((f) => WORKFLOW_EXTENSIONS.has(extname(f)) && !f.endsWith('.d.ts')).sort().slice(0, MAX_FILES_PER_DIR);
      } catch {
        continue;
      }
      // By file name first (cheap), then by the name inside.
      const named = files.filter((f) => basename(f, extname(f)) === workflow);
      for (const file of [...named, ...files.filter((f) => !named.includes(f))]) {
        const loaded = await loadWorkflow(join(dir, file)).catch(() => undefined);
        if (loaded?.spec?.name === workflow) return loaded.spec;
      }
    }
    return undefined;
  }
}
