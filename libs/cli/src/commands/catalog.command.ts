import { type ApiFlags, apiClient, withApi } from '../api-client/api-connection';
import { printList } from '../api-client/table.util';
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
    printList(io, flags, {
      items: actions,
      empty: 'no actions',
      header: ['NAME', 'SOURCE', 'QUEUES', 'DESCRIPTION'],
      row: (a) => [
        a.name,
        [a.builtin ? 'builtin' : '', a.workers > 0 ? `${a.workers} worker(s)` : ''].filter(Boolean).join(', ') || '-',
        a.queues.join(',') || '-',
        a.description ?? '',
      ],
    });
    return EXIT.ok;
  });
}

/** `weft catalog templates`: the workflow templates the deployment serves; `--json` with their specs. */
export async function catalogTemplates(flags: CatalogFlags, io: Io): Promise<number> {
  return withApi(io, async () => {
    const templates = await apiClient(flags).catalog.templates();
    printList(io, flags, { items: templates, empty: 'no templates', header: ['NAME', 'STEPS', 'DESCRIPTION'], row: (t) => [t.name, String(t.spec.steps.length), t.description] });
    return EXIT.ok;
  });
}
