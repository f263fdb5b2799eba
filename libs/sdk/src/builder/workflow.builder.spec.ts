import { WorkflowSpec } from '@weft/core';
import { parse } from 'yaml';
import { WorkflowBuildError } from '../sdk.error';
import { chain, fanOutFanIn, parallel, step } from './fragment.util';
import { workflow } from './workflow.builder';

const release = () =>
  workflow('release', { description: 'Ship it', defaults: { timeout: '5m', retry: { maxAttempts: 2 } }, onFailure: 'continue' })
    .input('env', { type: 'string', default: 'staging' })
    .step('build', 'transform', { with: { expr: '{"count": 41}' } })
    .step('test', 'noop', { needs: ['build'], with: { next: '${{ steps.build.output.count + 1 }}' }, retry: { maxAttempts: 3, backoff: 'fixed', initialInterval: '100ms' } })
    .step('deploy', 'log', { needs: ['test'], if: "inputs.env == 'production'", with: { message: 'deploying' }, timeout: '1m' })
    .output('next', '${{ steps.test.output.next }}');

describe('workflow builder', () => {
  it('builds a spec with canonical keys', () => {
    const spec = release().build();
    expect(spec).toEqual({
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'release',
      description: 'Ship it',
      inputs: { env: { type: 'string', default: 'staging' } },
      defaults: { timeout: '5m', retry: { maxAttempts: 2 } },
      onFailure: 'continue',
      steps: [
        { id: 'build', action: 'transform', with: { expr: '{"count": 41}' } },
        { id: 'test', needs: ['build'], action: 'noop', with: { next: '${{ steps.build.output.count + 1 }}' }, retry: { maxAttempts: 3, backoff: 'fixed', initialInterval: '100ms' } },
        { id: 'deploy', needs: ['test'], if: "inputs.env == 'production'", action: 'log', with: { message: 'deploying' }, timeout: '1m' },
      ],
      outputs: { next: '${{ steps.test.output.next }}' },
    });
    expect(WorkflowSpec.parse(spec)).toEqual(spec);
    expect(Object.keys(spec)).toEqual(['apiVersion', 'kind', 'name', 'description', 'inputs', 'defaults', 'onFailure', 'steps', 'outputs']);
  });

  it('returns a new builder from every method, leaving the original unchanged', () => {
    const base = workflow('base').step('a', 'noop');
    const left = base.step('b', 'noop', { needs: ['a'] });
    const right = base.step('c', 'noop', { needs: ['a'] }).output('x', 1);
    expect(base.toSpec().steps.map((s) => s.id)).toEqual(['a']);
    expect(left.toSpec().steps.map((s) => s.id)).toEqual(['a', 'b']);
    expect(right.toSpec().steps.map((s) => s.id)).toEqual(['a', 'c']);
    expect(base.toSpec().outputs).toBeUndefined();
  });

  it('hands out copies: mutating a built spec or an argument does not leak into the builder', () => {
    const opts = { with: { list: [1] } };
    const b = workflow('copy').step('a', 'noop', opts);
    opts.with.list.push(2);
    const spec = b.build();
    spec.steps[0].action = 'changed';
    expect(b.build().steps[0]).toEqual({ id: 'a', action: 'noop', with: { list: [1] } });
  });

  it('adds helper fragments with their needs wired', () => {
    const spec = workflow('composed')
      .step('checkout', 'git.clone')
      .add(
        chain(
          step('lint', 'noop', { needs: ['checkout'] }),
          parallel(step('unit', 'noop'), step('e2e', 'noop')),
          fanOutFanIn({ id: 'region', items: ['eu', 'us'], action: 'deploy', with: { region: '$item' }, join: { id: 'verify', action: 'noop' } }),
        ),
      )
      .step('announce', 'log', { needs: ['verify'], with: { message: 'done' } })
      .build();
    expect(Object.fromEntries(spec.steps.map((s) => [s.id, s.needs ?? []]))).toEqual({
      checkout: [],
      lint: ['checkout'],
      unit: ['lint'],
      e2e: ['lint'],
      region_0: ['unit', 'e2e'],
      region_1: ['unit', 'e2e'],
      verify: ['region_0', 'region_1'],
      announce: ['verify'],
    });
  });

  it('rejects an invalid workflow listing every problem', () => {
    const bad = workflow('bad')
      .step('a', 'noop')
      .add(step('a', 'noop'), step('b', 'noop', { needs: ['missing'] }), step('c', 'noop', { needs: ['d'] }), step('d', 'noop', { needs: ['c'] }));
    let error: unknown;
    try {
      bad.build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkflowBuildError);
    const buildError = error as WorkflowBuildError;
    expect(buildError.code).toBe('WORKFLOW_INVALID');
    expect(buildError.diagnostics.map((d) => [d.code, d.path])).toEqual([
      ['DUPLICATE_STEP_ID', 'steps[1].id'],
      ['UNKNOWN_NEED', 'steps[2].needs[0]'],
      ['CYCLE', 'steps[3].needs[0]'],
    ]);
    expect(buildError.diagnostics.every((d) => d.severity === 'error' && d.line === 0)).toBe(true);
    expect(buildError.message).toMatch(/error steps\.b\.needs\[0\]: unknown step "missing"/);
    expect(bad.diagnostics()).toEqual(buildError.diagnostics);
    // toSpec() is the unvalidated escape hatch.
    expect(bad.toSpec().steps).toHaveLength(5);
  });

  it('rejects schema violations: names, ids, durations and an empty workflow', () => {
    expect(() => workflow('Not Kebab').step('a', 'noop').build()).toThrow(/kebab-case/);
    expect(() => workflow('ok').step('has-dash', 'noop').build()).toThrow(/steps\[0\]\.id: invalid id "has-dash": step ids are identifiers/);
    expect(() => workflow('ok').step('a', 'noop', { timeout: '5 minutes' }).build()).toThrow(/steps\.a\.timeout/);
    expect(() => workflow('empty').build()).toThrow(WorkflowBuildError);
  });

  it('rejects expressions reading unknown or downstream steps, as weft validate does', () => {
    const bad = workflow('refs')
      .step('a', 'transform', { with: { expr: 'steps.b.output + 1' } })
      .step('b', 'noop', { needs: ['a'], with: { x: '${{ steps.buidl.output }}' } });
    expect(bad.diagnostics().map((d) => [d.code, d.path])).toEqual([
      ['NOT_UPSTREAM_REF', 'steps[0].with.expr'],
      ['UNKNOWN_STEP_REF', 'steps[1].with.x'],
    ]);
    expect(() => bad.build()).toThrow(WorkflowBuildError);
  });

  it('builds despite warnings, which diagnostics() still reports', () => {
    const warned = workflow('warned').step('a', 'noop').add(step('b', 'noop', { needs: ['a', 'a'] }));
    expect(warned.diagnostics().map((d) => [d.severity, d.code])).toEqual([['warning', 'DUPLICATE_NEED']]);
    expect(warned.build().steps[1].needs).toEqual(['a', 'a']);
  });

  it('round-trips through YAML', () => {
    const built = workflow('fan').add(chain(step('a', 'noop'), fanOutFanIn({ id: 'w', count: 3, action: 'transform', with: { expr: '$index + 1' }, join: { id: 'j', action: 'transform', with: { expr: '$outputs' } } })));
    const text = built.toYAML();
    expect(parse(text)).toEqual(built.build());
    expect(text).toContain('needs: [w_0, w_1, w_2]');
    expect(release().toYAML()).toContain("if: inputs.env == 'production'");
    expect(parse(release().toYAML())).toEqual(release().build());
  });

  it('refuses to write YAML for an invalid workflow unless asked not to validate', () => {
    const bad = workflow('bad').step('a', 'noop', { needs: [] }).add(step('b', 'noop', { needs: ['nope'] }));
    expect(() => bad.toYAML()).toThrow(WorkflowBuildError);
    expect(bad.toYAML({ validate: false })).toContain('needs: [nope]');
  });

  it('checks needs against declared step ids at compile time', () => {
    const b = workflow('typed').step('a', 'noop');
    // @ts-expect-error 'x' is not a step declared so far
    const typo = b.step('b', 'noop', { needs: ['x'] });
    // Fragments with dynamic ids widen the known ids to string.
    const widened = b.add(fanOutFanIn({ id: 'w', count: 1, action: 'noop', join: { id: 'j', action: 'noop' } })).step('z', 'noop', { needs: ['j'] });
    expect(typo.diagnostics().map((d) => d.code)).toEqual(['UNKNOWN_NEED']);
    expect(widened.diagnostics()).toEqual([]);
  });
});
