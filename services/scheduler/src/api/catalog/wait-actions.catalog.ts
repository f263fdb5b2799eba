import type { AnnouncedAction } from '@weft/contracts';
import { waitActionInputSchemas } from '@weft/core';

/**
 * The built-in actions as the catalog shows them: `sleep` and `wait.event` are durable waits the
 * scheduler runs itself (no worker announces wait.event, and a worker's sleep handler knows only
 * `duration`), so their entries describe what the scheduler does.
 */
export function withWaitActions(builtins: readonly AnnouncedAction[]): AnnouncedAction[] {
  const schemas = waitActionInputSchemas();
  const waits: AnnouncedAction[] = [
    { name: 'sleep', description: 'A durable sleep the scheduler holds as a timer (no worker): with.duration or with.until; outputs { sleptMs, until }.', inputSchema: schemas.sleep },
    {
      name: 'wait.event',
      description: 'Waits for a signal (POST /v1/signals, weft.signal.<name>) by name, key and match, with a lookback; fails with TIMEOUT after with.timeout. Outputs { id, name, key, data, receivedAt }.',
      inputSchema: schemas['wait.event'],
    },
  ];
  return [...builtins.filter((a) => a.name !== 'sleep' && a.name !== 'wait.event'), ...waits];
}
