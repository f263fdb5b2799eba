import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDirForSuite } from './commands/__fixtures__/temp-dir';

// The real `weft` binary as a user runs it: a child process, exit codes, stdout.
const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'libs', 'cli', 'bin', 'weft.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function weft(args: string[], options: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Each test starts Node and the CLI at least once: generous on a loaded 2-core machine.
jest.setTimeout(60_000);

describe('weft (as a process)', () => {
  let dir = '';
  tempDirForSuite('weft-cli-', (made) => (dir = made));

  it('validate: 0 for valid files, 2 with file:line:col and a suggestion for a typo', async () => {
    const ok = await weft(['validate', 'examples/diamond.yaml', 'examples/flaky-retry.yaml']);
    expect(ok.code).toBe(0);
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      ['apiVersion: weft/v1', 'kind: Workflow', 'name: bad', 'steps:', '  - id: build', '    action: noop', '  - id: test', '    needs: [buidl]', '    action: noop', ''].join('\n'),
    );
    const result = await weft(['validate', bad, 'examples/diamond.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}:8:13`);
    expect(result.stderr).toMatch(/steps\.test\.needs\[0\].*unknown step "buidl".*did you mean "build"/);
  });

  it('run --json: one document describing the finished run, exit 0', async () => {
    const result = await weft(['run', 'examples/diamond.yaml', '--json', '--input', 'count=10']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown> & { steps: Record<string, unknown>[] };
    expect(report).toMatchObject({ workflow: 'diamond', status: 'completed', inputs: { count: 10 }, outputs: { answer: 11, doubled: 20 } });
    expect(Object.keys(report).sort()).toEqual(['durationMs', 'error', 'finishedAt', 'inputs', 'outputs', 'runId', 'startedAt', 'status', 'steps', 'workflow']);
    expect(report.steps.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    for (const step of report.steps) {
      expect(Object.keys(step).sort()).toEqual(['attempts', 'durationMs', 'error', 'finishedAt', 'id', 'output', 'startedAt', 'status']);
      expect(new Date(String(step.startedAt)).toISOString()).toBe(step.startedAt);
    }
  });

  it('run: exit 1 for a failed run, with the error in the report', async () => {
    const file = join(dir, 'fails.yaml');
    await writeFile(file, 'apiVersion: weft/v1\nkind: Workflow\nname: fails\nsteps:\n  - id: boom\n    action: fail\n    with: { message: no luck, code: NOPE }\n');
    const result = await weft(['run', file, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { status: string; steps: { error: { code: string } | null }[] };
    expect(report.status).toBe('failed');
    expect(report.steps[0]?.error?.code).toBe('NOPE');
  });

  it('run: exit 2 for a missing required input, naming it', async () => {
    const result = await weft(['run', 'examples/data-pipeline.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/source/);
  });

  it('run --actions: loads user handlers from a module', async () => {
    const actions = join(dir, 'actions.js');
    await writeFile(actions, "exports['greet'] = async (input, ctx) => ({ greeting: `hello ${input.name}`, attempt: ctx.attempt });\n");
    const file = join(dir, 'greet.yaml');
    await writeFile(file, 'apiVersion: weft/v1\nkind: Workflow\nname: greet\nsteps:\n  - id: hi\n    action: greet\n    with: { name: ada }\noutputs:\n  text: ${{ steps.hi.output.greeting }}\n');
    const result = await weft(['run', file, '--actions', actions, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', outputs: { text: 'hello ada' } });
  });

  it('Ctrl-C cancels the run cleanly: exit 1, steps canceled', async () => {
    const file = join(dir, 'slow.yaml');
    await writeFile(file, 'apiVersion: weft/v1\nkind: Workflow\nname: slow\nsteps:\n  - id: nap\n    action: sleep\n    with: { duration: 30s }\n  - id: after\n    needs: [nap]\n    action: noop\n');
    let sent = false;
    const started = Date.now();
    const result = await weft(['run', file], {
      onStdout: (text, child) => {
        if (!sent && /nap.* (started|waiting)/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/run canceled/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
