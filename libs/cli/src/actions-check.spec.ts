import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkflow } from '@weft/core';
import { ActionsCheckError, knownWithoutModules, loadUserActions, unknownActions } from './actions-check';

const YAML = 'apiVersion: weft/v1\nkind: Workflow\nname: acts\nsteps:\n  - id: first\n    action: log\n  - id: check\n    needs: [first]\n    action: gret\n  - id: nap\n    action: sleep\n    with: { duration: 1s }\n';

describe('actions checked before the run', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-actions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('names an unknown action by step id and YAML line, with "did you mean" and a hint; built-ins and waits are known', async () => {
    const file = write('wf.yaml', YAML);
    const { spec } = parseWorkflow(YAML, file);
    if (!spec) throw new Error('fixture invalid');
    const found = await unknownActions(spec, file, [...knownWithoutModules(), 'greet']);
    expect(found).toEqual([
      expect.objectContaining({ path: 'steps.check.action', line: 9, col: 5, code: 'UNKNOWN_ACTION', severity: 'error', message: 'unknown action "gret"; did you mean "greet"?', hint: expect.stringContaining('--actions') }),
    ]);
    expect(await unknownActions(spec, file, [...knownWithoutModules(), 'gret'])).toEqual([]);
  });

  it('loads modules, and refuses one that redefines a built-in, defines an action twice, exports nothing or does not parse', async () => {
    expect((await loadUserActions([write('ok.js', 'exports.greet = async () => 1;\n')])).map((a) => a.name)).toEqual(['greet']);
    await expect(loadUserActions([write('log.js', 'exports.log = async () => 1;\n')])).rejects.toThrow(/action "log" redefines the built-in action/);
    await expect(loadUserActions([write('a.js', 'exports.x = async () => 1;\n'), write('b.js', 'exports.x = async () => 2;\n')])).rejects.toThrow(/action "x" is defined by .*a\.js too/);
    await expect(loadUserActions([write('none.js', 'const x = 1;\n')])).rejects.toThrow(/no actions/);
    const broken = write('broken.js', 'exports.a = async () => {\n  return 1 +;\n};\n');
    await expect(loadUserActions([broken])).rejects.toThrow(ActionsCheckError);
    await expect(loadUserActions([broken])).rejects.toThrow(`${broken}:2:`);
  });
});
