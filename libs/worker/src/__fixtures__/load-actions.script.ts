/**
 * Loads actions modules in a plain Node process (run with `node -r @swc-node/register`), as the
 * CLI does: jest's module system cannot load ES modules, so ESM loading is tested through this.
 * argv[2]: JSON array of { file, call?: { name, input } }; prints a JSON array of outcomes.
 */
import { loadActionsModule } from '../actions-module.loader';
import { testContext } from './action-context.fixture';

interface Request {
  file: string;
  call?: { name: string; input: Record<string, unknown> };
}

async function main(): Promise<void> {
  const requests = JSON.parse(process.argv[2] ?? '[]') as Request[];
  const outcomes: unknown[] = [];
  for (const { file, call } of requests) {
    try {
      const definitions = await loadActionsModule(file);
      const target = call ? definitions.find((d) => d.name === call.name) : undefined;
      const output = call && target ? await target.handler(call.input, testContext()) : undefined;
      outcomes.push({ names: definitions.map((d) => d.name), descriptions: definitions.map((d) => d.description ?? null), output });
    } catch (error) {
      const { name, code, message } = error as { name?: string; code?: string; message?: string };
      outcomes.push({ error: { name, code, message } });
    }
  }
  process.stdout.write(JSON.stringify(outcomes));
}

main().catch((error: unknown) => {
  process.stderr.write(String(error));
  process.exitCode = 1;
});
