import { type ApiFlags, apiClient, withApi } from '../api-client/api-connection';
import { table } from '../api-client/table.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

export interface CatalogFlags extends ApiFlags {
  json?: boolean;
}

/**
 * `weft catalog actions`: the built-in actions and those live workers announce: name,
 * description, where it comes from (built in, or how many workers serve it) and the
 * queues it is served on. `--json` prints the items with their input schemas.
 */
export async function catalogActions(flags: CatalogFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const actions = await apiClient(flags).catalog.actions();
    if (flags.json) io.out(JSON.stringify(actions, null, 2));
    else if (actions.length === 0) io.out('no actions');
    else {
      table(
        io,
        ['NAME', 'SOURCE', 'QUEUES', 'DESCRIPTION'],
        actions.map((a) => [
          a.name,
          [a.builtin ? 'builtin' : '', a.workers > 0 ? `${a.workers} worker(s)` : ''].filter(Boolean).join(', ') || '-',
          a.queues.join(',') || '-',
          a.description ?? '',
        ]),
      );
    }
    return EXIT.ok;
  });
}

/** `weft catalog templates`: the workflow templates the deployment serves; `--json` with their specs. */
export async function catalogTemplates(flags: CatalogFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const templates = await apiClient(flags).catalog.templates();
    if (flags.json) io.out(JSON.stringify(templates, null, 2));
    else if (templates.length === 0) io.out('no templates');
    else table(io, ['NAME', 'STEPS', 'DESCRIPTION'], templates.map((t) => [t.name, String(t.spec.steps.length), t.description]));
    return EXIT.ok;
  });
}
