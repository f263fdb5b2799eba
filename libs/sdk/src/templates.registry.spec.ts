import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowSpec } from '@weft/core';
import { parse } from 'yaml';
import { dryRun } from './testing';
import { TemplateNotFoundError, TemplateOverrideError, WorkflowBuildError } from './sdk.error';
import { templates, TEMPLATES_DIR } from './templates.registry';

const STAGES: Record<string, string[]> = {
  'ci-cd': ['lint', 'build', 'test', 'deploy'],
  'code-review': ['generate', 'test', 'review', 'merge'],
  'data-pipeline': ['ingest', 'validate', 'transform', 'export'],
};

describe('templates', () => {
  it('lists every YAML file in the templates folder with its description', () => {
    const files = readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.yaml'));
    expect(TEMPLATES_DIR).toBe(path.resolve(__dirname, '..', 'templates'));
    expect(templates.list().map((t) => t.name)).toEqual(Object.keys(STAGES));
    expect(files.sort()).toEqual(Object.keys(STAGES).map((n) => `${n}.yaml`));
    for (const t of templates.list()) expect(t.description.length).toBeGreaterThan(10);
  });

  it.each(Object.entries(STAGES))('%s loads, validates and is a chain of its stages', (name, stages) => {
    const spec = templates.get(name);
    expect(WorkflowSpec.parse(spec)).toEqual(spec);
    expect(spec.name).toBe(name);
    expect(spec.steps.map((s) => [s.id, s.needs ?? []])).toEqual(stages.map((id, i) => [id, i === 0 ? [] : [stages[i - 1]]]));
    // The file on disk is the source: get() returns it as written.
    expect(spec).toEqual(parse(readFileSync(path.join(TEMPLATES_DIR, `${name}.yaml`), 'utf8')));
    for (const s of spec.steps) expect(['noop', 'sleep', 'transform', 'log']).toContain(s.action);
  });

  it('ci-cd runs out of the box, passing the build artifact to deploy', () => {
    const result = dryRun(templates.get('ci-cd'), { ref: 'v2.0.0', environment: 'production' });
    expect(result.status).toBe('completed');
    expect(result.logs).toEqual(['Linting https://github.com/acme/webapp.git at v2.0.0', 'Deploying webapp-v2.0.0.tar.gz to production']);
    expect(result.outputs).toEqual({ artifact: 'webapp-v2.0.0.tar.gz', environment: 'production' });
  });

  it('code-review runs out of the box and merges an approved change', () => {
    const result = dryRun(templates.get('code-review'));
    expect(result.steps.merge.status).toBe('completed');
    expect(result.outputs).toEqual({ branch: 'weft/generated-change', approved: true });
    expect(result.logs).toEqual(['Merging weft/generated-change into main of https://github.com/acme/webapp.git']);
  });

  it('data-pipeline runs out of the box on sample rows, rejecting the bad one', () => {
    const result = dryRun(templates.get('data-pipeline'));
    expect(result.steps.transform.output).toEqual([
      { id: 1, customer: 'ada', amountCents: 12050 },
      { id: 2, customer: 'grace', amountCents: 8000 },
    ]);
    expect(result.outputs).toEqual({ exported: 2, rejected: [3] });
    expect(result.logs).toEqual(['Exporting 2 records to stdout']);
    expect(dryRun(templates.get('data-pipeline'), { minAmount: 100 }).outputs).toEqual({ exported: 1, rejected: [2, 3] });
  });

  it('overrides a step action and its with, keeping the rest of the template', () => {
    const spec = templates.get('ci-cd', {
      name: 'web-ci',
      actions: { build: 'docker.build', deploy: 'k8s.deploy' },
      with: { deploy: { namespace: 'web', image: '${{ steps.build.output.image }}' } },
    });
    const byId = Object.fromEntries(spec.steps.map((s) => [s.id, s]));
    expect(spec.name).toBe('web-ci');
    expect(byId.build).toMatchObject({ action: 'docker.build', with: templates.get('ci-cd').steps[1].with });
    expect(byId.deploy).toMatchObject({ action: 'k8s.deploy', with: { namespace: 'web', image: '${{ steps.build.output.image }}' }, needs: ['test'] });
    expect(byId.lint).toEqual(templates.get('ci-cd').steps[0]);
  });

  it('merges input overrides and accepts new typed inputs', () => {
    const spec = templates.get('ci-cd', { inputs: { environment: { default: 'production' }, cluster: { type: 'string', required: true } } });
    expect(spec.inputs?.environment).toEqual({ type: 'string', default: 'production', description: 'Where to deploy (staging, production, ...).' });
    expect(spec.inputs?.cluster).toEqual({ type: 'string', required: true });
    expect(() => templates.get('ci-cd', { inputs: { clusterr: { default: 'x' } } })).toThrow(/input "clusterr" is not declared.*repo, ref, environment/);
  });

  it('hands out independent copies', () => {
    const first = templates.get('ci-cd');
    first.steps[0].action = 'mutated';
    expect(templates.get('ci-cd').steps[0].action).toBe('log');
  });

  it('names the valid steps when an override names an unknown one', () => {
    expect(() => templates.get('ci-cd', { actions: { ship: 'k8s.deploy' } })).toThrow(TemplateOverrideError);
    expect(() => templates.get('ci-cd', { actions: { ship: 'k8s.deploy' } })).toThrow('action override names unknown step "ship"; steps are: lint, build, test, deploy');
    expect(() => templates.get('data-pipeline', { with: { load: {} } })).toThrow(/unknown step "load"; steps are: ingest, validate, transform, export/);
  });

  it('rejects an unknown template and overrides that make the spec invalid', () => {
    expect(() => templates.get('nope')).toThrow(TemplateNotFoundError);
    expect(() => templates.get('nope')).toThrow('unknown template "nope"; available: ci-cd, code-review, data-pipeline');
    expect(() => templates.get('ci-cd', { name: 'Not Kebab' })).toThrow(WorkflowBuildError);
    expect(() => templates.get('ci-cd', { actions: { deploy: '' } })).toThrow(/steps\.deploy\.action/);
  });
});
