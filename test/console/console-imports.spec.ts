import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// The console takes the API's shapes from @weft/sdk and @weft/contracts as types only: a value
// import would pull zod and Node code into the browser bundle. Vite erases `import type`.

const SRC = join(__dirname, '..', '..', 'apps', 'console', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('console imports of the workspace packages', () => {
  const files = sources(SRC);

  it('imports @weft/* packages only as types, from their entry points', () => {
    const offending: string[] = [];
    let typeImports = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(import|export)\b([^;]*?)from '(@weft\/[^']+)';/gms)) {
        const [statement, , clause = '', from = ''] = m;
        const typeOnly = /^\s*type\b/.test(clause);
        const entryPoint = /^@weft\/[a-z-]+$/.test(from);
        if (typeOnly && entryPoint) typeImports += 1;
        else offending.push(`${relative(SRC, file)}: ${statement.replace(/\s+/g, ' ')}`);
      }
      for (const m of text.matchAll(/import\(\s*'(@weft\/[^']+)'\s*\)/g)) offending.push(`${relative(SRC, file)}: dynamic import of ${m[1]}`);
    }
    expect(offending).toEqual([]);
    expect(typeImports).toBeGreaterThan(5);
  });

  it('keeps no copy of the API types (apps/console/src/api/types.ts is gone)', () => {
    expect(files.map((f) => relative(SRC, f))).not.toContain(join('api', 'types.ts'));
    for (const file of files) expect(readFileSync(file, 'utf8')).not.toMatch(/^export interface (Run|RunSummary|Workflow|Version|Draft|Problem)\b/m);
  });
});
