import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWorkflowCatalog } from './file-workflow.catalog';

const yaml = (name: string): string => `apiVersion: weft/v1\nkind: Workflow\nname: ${name}\nsteps:\n  - id: a\n    action: noop\n`;

describe('FileWorkflowCatalog (weft run: child workflows from files)', () => {
  it("finds a child by file name or by the name inside, next to the parent first, then in --workflows folders; unknown is undefined", async () => {
    const root = await mkdtemp(join(tmpdir(), 'weft-catalog-'));
    await mkdir(join(root, 'flows'));
    await mkdir(join(root, 'lib'));
    await writeFile(join(root, 'flows', 'parent.yaml'), yaml('parent'));
    await writeFile(join(root, 'flows', 'child.yaml'), yaml('child'));
    await writeFile(join(root, 'lib', 'renamed.yml'), yaml('elsewhere'));
    await writeFile(join(root, 'lib', 'broken.yaml'), 'steps: [');

    const catalog = new FileWorkflowCatalog(join(root, 'flows', 'parent.yaml'), [join(root, 'lib')]);
    expect(await catalog.resolve('child')).toMatchObject({ version: 'file', spec: { name: 'child' } });
    expect(await catalog.resolve('elsewhere')).toMatchObject({ version: 'file', spec: { name: 'elsewhere' } });
    expect(await catalog.resolve('nowhere')).toBeUndefined();
    expect(await new FileWorkflowCatalog(join(root, 'flows', 'parent.yaml')).resolve('elsewhere')).toBeUndefined();
  });
});
