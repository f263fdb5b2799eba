import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { templatesFromDirectory, TemplatesDirectoryError } from './templates';

describe('templatesFromDirectory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-templates-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('serves every valid workflow file of the directory, in name order', async () => {
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: weft/v1\nkind: Workflow\nname: beta\ndescription: second\nsteps:\n  - id: s\n    action: noop\n');
    await writeFile(join(dir, 'a.yml'), 'apiVersion: weft/v1\nkind: Workflow\nname: alpha\nsteps:\n  - id: s\n    action: noop\n');
    await writeFile(join(dir, 'notes.txt'), 'not a template');
    const source = templatesFromDirectory(dir);
    expect(source().map((t) => [t.name, t.description])).toEqual([['alpha', ''], ['beta', 'second']]);
    // Callers get copies: changing one does not change the catalog.
    const steps = (view: ReturnType<typeof source>[number] | undefined): unknown[] => (view?.spec as { steps: unknown[] }).steps;
    steps(source()[0]).pop();
    expect(steps(source()[0])).toHaveLength(1);
  });

  it('refuses to boot with an invalid template, naming the file', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: weft/v1\nkind: Workflow\nname: bad\nsteps:\n  - id: s\n    needs: [nope]\n    action: noop\n');
    expect(() => templatesFromDirectory(dir)).toThrow(TemplatesDirectoryError);
    expect(() => templatesFromDirectory(dir)).toThrow(/bad\.yaml is invalid: .*nope/);
  });

  it('reads the templates the SDK ships', () => {
    const names = templatesFromDirectory(join(__dirname, '..', '..', '..', '..', '..', 'libs', 'sdk', 'templates'))().map((t) => t.name);
    expect(names).toEqual(['ci-cd', 'code-review', 'data-pipeline']);
  });
});
