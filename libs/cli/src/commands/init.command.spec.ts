import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkflow } from '../load-workflow';
import type { Io } from '../io';
import { initCommand } from './init.command';

const captured = (): Io & { lines: string[]; errors: string[] } => {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false, write: (t) => lines.push(t) };
};

describe('weft init', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'weft-init-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes a starter project whose YAML workflow is valid and names its schema', async () => {
    const io = captured();
    expect(initCommand(join(root, 'My App'), {}, io)).toBe(0);
    const dir = join(root, 'My App');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    expect(pkg.name).toBe('my-app');
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@weft/cli', '@weft/sdk']);
    const yaml = readFileSync(join(dir, 'workflows', 'hello.yaml'), 'utf8');
    expect(yaml.split('\n')[0]).toBe('# yaml-language-server: $schema=../node_modules/@weft/cli/schema/workflow-v1.schema.json');
    const loaded = await loadWorkflow(join(dir, 'workflows', 'hello.yaml'));
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec?.steps.map((s) => s.action)).toEqual(['greet', 'log']);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('npx weft run workflows/hello.yaml --actions actions.ts');
    expect(io.lines.join('\n')).toContain('npm install');
  });

  it('refuses a folder with files in it, and with --force adds only the missing files', () => {
    writeFileSync(join(root, 'README.md'), 'mine\n');
    const io = captured();
    expect(initCommand(root, {}, io)).toBe(2);
    expect(io.errors.join('\n')).toContain('is not empty');
    expect(initCommand(root, { force: true }, io)).toBe(0);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe('mine\n');
    expect(io.errors).toContain('kept README.md (exists)');
    expect(readFileSync(join(root, 'actions.ts'), 'utf8')).toContain('defineAction');
  });
});
