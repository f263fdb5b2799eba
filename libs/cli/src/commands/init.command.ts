import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

export interface InitOptions {
  /** Write into a folder that already holds files (existing files are still never overwritten). */
  force?: boolean;
}

/** The CLI's own version: the starter depends on the packages it came with. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('../../package.json') as { version: string }).version;

/** Where editors find the workflow schema: shipped inside the installed @weft/cli, so it matches its version. */
const SCHEMA_LINE = '# yaml-language-server: $schema=../node_modules/@weft/cli/schema/workflow-v1.schema.json';

/** An npm package name from a folder name (lower-case, dashes). */
function packageName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name.length > 0 ? name.slice(0, 214) : 'weft-app';
}

/** The starter project, file by file (paths relative to the target folder). */
export function starterFiles(name: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '0.1.0',
        private: true,
        scripts: {
          validate: 'weft validate workflows/',
          start: 'weft run workflows/hello.yaml --actions actions.ts',
          'start:ts': 'weft run workflows/hello.ts --actions actions.ts',
          typecheck: 'tsc --noEmit',
        },
        dependencies: { '@weft/cli': `^${VERSION}`, '@weft/sdk': `^${VERSION}` },
        devDependencies: { '@types/node': '^20.19.0', typescript: '^5.9.0' },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: true, types: ['node'], noEmit: true },
        include: ['*.ts', 'workflows/**/*.ts'],
      },
      null,
      2,
    )}\n`,
    '.gitignore': 'node_modules/\n.weft/\n',
    'actions.ts': `import { defineAction, NonRetryableError } from '@weft/sdk';

// A step handler: \`action: greet\` in a workflow runs it. Load it with --actions actions.ts
// (weft run, weft dev, weft worker), or serve it from your own process with startWorker.
export const greet = defineAction<{ name: string }>({
  name: 'greet',
  description: 'Says hello',
  handler: async (input, ctx) => {
    if (!input.name) throw new NonRetryableError('no name given', { code: 'NO_NAME' });
    ctx.logger.info(\`greeting \${input.name}\`);
    return { text: \`hello \${input.name}\` };
  },
});
`,
    'workflows/hello.yaml': `${SCHEMA_LINE}
# Run it:  npx weft run workflows/hello.yaml --actions actions.ts --input name=ada
apiVersion: weft/v1
kind: Workflow
name: hello
description: Greets someone with the greet action of actions.ts, then logs the greeting
inputs:
  name: { type: string, default: world }
steps:
  - id: greet
    action: greet
    with:
      name: "\${{ inputs.name }}"
  - id: announce
    needs: [greet]
    action: log
    with:
      message: "\${{ steps.greet.output.text }}"
outputs:
  text: "\${{ steps.greet.output.text }}"
`,
    'workflows/hello.ts': `import { workflow } from '@weft/sdk';

// The same workflow as hello.yaml, built in TypeScript (a typo in \`needs\` does not compile).
// Run it:  npx weft run workflows/hello.ts --actions actions.ts
export default workflow('hello-ts', { description: 'hello.yaml, built with the SDK' })
  .input('name', { type: 'string', default: 'world' })
  .step('greet', 'greet', { with: { name: '\${{ inputs.name }}' } })
  .step('announce', 'log', { needs: ['greet'], with: { message: '\${{ steps.greet.output.text }}' } })
  .output('text', '\${{ steps.greet.output.text }}');
`,
    'README.md': `# ${name}

A [Weft](https://www.npmjs.com/package/@weft/cli) project: durable workflows in YAML or TypeScript.

\`\`\`sh
npm install
npx weft run workflows/hello.yaml --actions actions.ts --input name=ada
npx weft history <run id printed above>     # the run, kept in .weft/
\`\`\`

Then:

- \`npx weft run workflows/hello.ts --actions actions.ts\`: the same workflow built with the SDK;
- \`npx weft validate workflows/\`: check every workflow (your editor completes YAML fields through the \`$schema\` line);
- \`npx weft dev --actions actions.ts\`: every service in one process, with an HTTP API and the console;
- \`npx weft runs list\` and \`npx weft insights\`: what ran, and where it hurts.

\`actions.ts\` holds the step handlers (\`defineAction\`); \`workflows/\` the workflows.
`,
  };
}

/** `weft init [dir]`: a starter project; never overwrites a file. Exit 0, or 2 when the folder is not empty. */
export function initCommand(dir: string | undefined, options: InitOptions, io: Io): number {
  const target = resolve(dir ?? '.');
  if (existsSync(target) && readdirSync(target).length > 0 && !options.force) {
    io.err(`${target} is not empty: pick a new folder (weft init my-app), or --force to add the starter files that are missing`);
    return EXIT.invalid;
  }
  const files = starterFiles(packageName(target));
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const path = join(target, file);
    if (existsSync(path)) {
      io.err(`kept ${file} (exists)`);
      continue;
    }
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    written.push(file);
  }
  const near = relative(process.cwd(), target);
  const where = near === '' ? '.' : near.startsWith('..') ? target : near;
  io.out(`created ${written.length} files in ${where}: ${written.join(', ')}`);
  io.out('next:');
  if (where !== '.') io.out(`  cd ${where}`);
  io.out('  npm install');
  io.out('  npx weft run workflows/hello.yaml --actions actions.ts --input name=ada');
  io.out('  npx weft history <run id>');
  return EXIT.ok;
}
