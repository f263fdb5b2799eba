import type { RunState } from '@weft/core';
import type { RunStore } from '../ports/run-store.port';
import { ApiError } from '../api/http/api.errors';
import type { RunLinks, SqlRunDirectory } from '../persistence/run-directory.repository';

/** A run as seen from one namespace: another namespace's run does not exist (404, never 403). */
export class RunAccess {
  constructor(
    private readonly store: Pick<RunStore, 'getRun'>,
    private readonly directory: Pick<SqlRunDirectory, 'namespaceOf' | 'links'>,
  ) {}

  /** Throws RUN_NOT_FOUND unless the run exists in the namespace. */
  async assertVisible(namespace: string, runId: string): Promise<void> {
    if ((await this.directory.namespaceOf(runId)) !== namespace) throw notFound(runId);
  }

  async get(namespace: string, runId: string): Promise<RunState> {
    await this.assertVisible(namespace, runId);
    const state = await this.store.getRun(runId);
    if (!state) throw notFound(runId);
    return state;
  }

  async getWithLink(namespace: string, runId: string): Promise<{ state: RunState; link: RunLinks }> {
    const state = await this.get(namespace, runId);
    return { state, link: await this.directory.links(runId) };
  }
}

export const notFound = (runId: string): ApiError => new ApiError('RUN_NOT_FOUND', `no run ${runId}`);
