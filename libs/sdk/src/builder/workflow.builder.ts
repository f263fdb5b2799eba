import { API_VERSION, type Diagnostic, hasErrors, type InputDecl, type StepSpec, type WorkflowSpec } from '@weft/core';
import { WorkflowBuildError } from '../sdk.error';
import { type FragmentElement, type IdsOf, isFragment, normalizeStep, type StepOptions } from './fragment.util';
import { validateWorkflow } from './validate-workflow.util';
import { workflowToYaml } from './yaml.util';

export type WorkflowOptions = Pick<WorkflowSpec, 'description' | 'inputs' | 'defaults' | 'timeout' | 'onFailure'>;

interface BuilderState {
  name: string;
  options: WorkflowOptions;
  steps: readonly StepSpec[];
  outputs: Readonly<Record<string, unknown>>;
}

/**
 * Builds a workflow spec in code. Every method returns a new builder, so a partly
 * built workflow can be shared and extended without the branches affecting each other.
 * `Ids` tracks the step ids declared so far: `needs` of `.step()` may only name them.
 */
export class WorkflowBuilder<Ids extends string = never> {
  private constructor(private readonly state: BuilderState) {}

  /** @internal use `workflow(name)`. */
  static create(name: string, options: WorkflowOptions = {}): WorkflowBuilder {
    return new WorkflowBuilder({ name, options: structuredClone(options), steps: [], outputs: {} });
  }

  input(name: string, decl: InputDecl): WorkflowBuilder<Ids> {
    const inputs = { ...this.state.options.inputs, [name]: structuredClone(decl) };
    return new WorkflowBuilder({ ...this.state, options: { ...this.state.options, inputs } });
  }

  /** Adds a step; `needs` may name steps declared before it (use `.add(step(...))` for anything else). */
  step<Id extends string>(id: Id, action: string, options: StepOptions<Ids> = {}): WorkflowBuilder<Ids | Id> {
    const added = normalizeStep({ ...structuredClone({ ...options, needs: options.needs ? [...options.needs] : undefined }), id, action });
    return new WorkflowBuilder({ ...this.state, steps: [...this.state.steps, added] });
  }

  /** Appends steps or fragments from `step`, `chain`, `parallel` and `fanOutFanIn` as they are. */
  add<E extends readonly FragmentElement[]>(...elements: E): WorkflowBuilder<Ids | IdsOf<E[number]>> {
    const added = elements.flatMap((e): readonly StepSpec[] => (isFragment(e) ? e : [e])).map((s) => normalizeStep(structuredClone(s)));
    return new WorkflowBuilder({ ...this.state, steps: [...this.state.steps, ...added] });
  }

  /** A run output; strings may hold `${{ }}` expressions, e.g. `'${{ steps.d.output.total }}'`. */
  output(name: string, value: unknown): WorkflowBuilder<Ids> {
    return new WorkflowBuilder({ ...this.state, outputs: { ...this.state.outputs, [name]: structuredClone(value) } });
  }

  /** Every problem of the workflow so far: errors (which make `build()` throw) and warnings. */
  diagnostics(): Diagnostic[] {
    return validateWorkflow(this.toSpec());
  }

  /** The validated spec; throws `WorkflowBuildError` listing every problem when there is an error (warnings pass). */
  build(): WorkflowSpec {
    const spec = this.toSpec();
    const diagnostics = validateWorkflow(spec);
    if (hasErrors(diagnostics)) throw new WorkflowBuildError(this.state.name, diagnostics);
    return spec;
  }

  /** The spec as built so far, without validation. */
  toSpec(): WorkflowSpec {
    const { name, options, steps, outputs } = this.state;
    const spec: Record<string, unknown> = {
      apiVersion: API_VERSION,
      kind: 'Workflow',
      name,
      description: options.description,
      inputs: options.inputs && Object.keys(options.inputs).length > 0 ? options.inputs : undefined,
      defaults: options.defaults,
      timeout: options.timeout,
      onFailure: options.onFailure,
      steps,
      outputs: Object.keys(outputs).length > 0 ? outputs : undefined,
    };
    for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
    return structuredClone(spec) as WorkflowSpec;
  }

  /** YAML of the validated spec (or of the spec as is with `{ validate: false }`). */
  toYAML(options: { validate?: boolean } = {}): string {
    return workflowToYaml(options.validate === false ? this.toSpec() : this.build());
  }
}

/** Starts a workflow: `workflow('release').step('build', 'shell').step('test', 'shell', { needs: ['build'] }).build()`. */
export function workflow(name: string, options: WorkflowOptions = {}): WorkflowBuilder {
  return WorkflowBuilder.create(name, options);
}
