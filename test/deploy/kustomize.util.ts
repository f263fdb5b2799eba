import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/**
 * A small `kustomize build` for the features deploy/k8s uses, so tests can render each
 * overlay offline (no kustomize binary here). Anything else in a kustomization.yaml
 * fails the schema below instead of being silently ignored. Differences from kustomize,
 * on purpose: generated ConfigMaps and Secrets keep their plain names (kustomize appends
 * a content hash and rewrites every reference to it, so references resolve the same way).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface KObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string };
}

const Generator = z
  .object({
    name: z.string().min(1),
    behavior: z.enum(['create', 'merge', 'replace']).optional(),
    literals: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*=/, 'expected KEY=value')).optional(),
    files: z.array(z.string()).optional(),
    type: z.string().optional(),
    options: z
      .object({
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
        disableNameSuffixHash: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const Target = z.object({ kind: z.string(), name: z.string() }).strict();

export const KustomizationSchema = z
  .object({
    apiVersion: z.enum(['kustomize.config.k8s.io/v1beta1', 'kustomize.config.k8s.io/v1alpha1']),
    kind: z.enum(['Kustomization', 'Component']),
    namespace: z.string().optional(),
    resources: z.array(z.string()).optional(),
    components: z.array(z.string()).optional(),
    configMapGenerator: z.array(Generator).optional(),
    secretGenerator: z.array(Generator).optional(),
    patches: z.array(z.object({ path: z.string(), target: Target.optional() }).strict()).optional(),
    images: z
      .array(z.object({ name: z.string(), newName: z.string().optional(), newTag: z.string().optional(), digest: z.string().optional() }).strict())
      .optional(),
  })
  .strict();
export type Kustomization = z.infer<typeof KustomizationSchema>;

export const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

const clone = <T extends Json>(value: T): T => structuredClone(value);

/** Every YAML document in a file, as plain JSON values; a YAML error fails loudly. */
export function readYamlDocuments(file: string): Json[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Json | undefined;
    return value === null || value === undefined ? [] : [value];
  });
}

function asKObject(value: Json, origin: string): KObject {
  if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isObject(value.metadata) || typeof value.metadata.name !== 'string') {
    throw new Error(`${origin}: not a Kubernetes object (apiVersion, kind, metadata.name)`);
  }
  return value as KObject;
}

/** kustomize's default load restrictor: files (patches, generator inputs) stay inside the kustomization's directory. */
function insideRoot(dir: string, path: string): string {
  const full = resolve(dir, path);
  const rel = relative(dir, full);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${dir}: ${path} is outside the kustomization root (kustomize refuses it)`);
  return full;
}

export function readKustomization(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir}: no kustomization.yaml`);
  const [doc] = readYamlDocuments(file);
  const parsed = KustomizationSchema.safeParse(doc);
  if (!parsed.success) throw new Error(`${file}: unsupported or invalid kustomization: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Renders a Kustomization directory: what `kubectl kustomize <dir>` prints, as objects.
 * `visited` collects every file read (kustomizations, resources, patches, generator inputs).
 */
export function kustomize(directory: string, visited: Set<string> = new Set()): KObject[] {
  const dir = resolve(directory);
  const k = readKustomization(dir);
  visited.add(join(dir, 'kustomization.yaml'));
  if (k.kind !== 'Kustomization') throw new Error(`${dir}: a Component cannot be built on its own`);
  return build(dir, k, [], visited);
}

function build(dir: string, k: Kustomization, inherited: KObject[], visited: Set<string>): KObject[] {
  let objects = [...inherited];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new Error(`${dir}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) {
      objects.push(...kustomize(path, visited));
    } else {
      visited.add(insideRoot(dir, entry));
      objects.push(...readYamlDocuments(path).map((doc, i) => asKObject(doc, `${path}#${i}`)));
    }
  }
  for (const entry of k.components ?? []) {
    const componentDir = resolve(dir, entry);
    const component = readKustomization(componentDir);
    if (component.kind !== 'Component') throw new Error(`${componentDir}: listed under components but kind is ${component.kind}`);
    visited.add(join(componentDir, 'kustomization.yaml'));
    objects = build(componentDir, component, objects, visited);
  }
  for (const g of k.configMapGenerator ?? []) objects = generate(dir, objects, 'ConfigMap', g);
  for (const g of k.secretGenerator ?? []) objects = generate(dir, objects, 'Secret', g);
  for (const g of [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])]) (g.files ?? []).forEach((f) => visited.add(insideRoot(dir, f)));
  for (const p of k.patches ?? []) {
    visited.add(insideRoot(dir, p.path));
    objects = applyPatchFile(dir, objects, p.path, p.target);
  }
  for (const image of k.images ?? []) objects.forEach((o) => setImages(o, image));
  if (k.namespace !== undefined) {
    const namespace = k.namespace;
    objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
  }
  return objects;
}

type GeneratorSpec = z.infer<typeof Generator>;

function generate(dir: string, objects: KObject[], kind: 'ConfigMap' | 'Secret', g: GeneratorSpec): KObject[] {
  const data: Record<string, string> = {};
  for (const literal of g.literals ?? []) {
    const at = literal.indexOf('=');
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  for (const file of g.files ?? []) data[basename(file)] = readFileSync(insideRoot(dir, file), 'utf8');
  const encoded: JsonObject = kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')])) : data;
  const existing = objects.findIndex((o) => o.kind === kind && o.metadata.name === g.name);
  const behavior = g.behavior ?? 'create';
  if (behavior === 'create') {
    if (existing >= 0) throw new Error(`${dir}: ${kind} ${g.name} already exists (use behavior: merge or replace)`);
    const metadata: KObject['metadata'] = { name: g.name };
    if (g.options?.labels) metadata.labels = g.options.labels;
    if (g.options?.annotations) metadata.annotations = g.options.annotations;
    const created: KObject = { apiVersion: 'v1', kind, metadata, data: encoded };
    if (kind === 'Secret') created.type = g.type ?? 'Opaque';
    return [...objects, created];
  }
  if (existing < 0) throw new Error(`${dir}: ${kind} ${g.name} to ${behavior} does not exist`);
  const base = objects[existing];
  const previous = isObject(base.data) ? base.data : {};
  const next: KObject = { ...base, data: behavior === 'merge' ? { ...previous, ...encoded } : encoded };
  return objects.map((o, i) => (i === existing ? next : o));
}

function applyPatchFile(dir: string, objects: KObject[], path: string, target: { kind: string; name: string } | undefined): KObject[] {
  const docs = readYamlDocuments(insideRoot(dir, path));
  if (docs.length === 1 && Array.isArray(docs[0])) {
    if (!target) throw new Error(`${dir}: JSON 6902 patch ${path} needs a target`);
    const ops = docs[0];
    const index = objects.findIndex((o) => o.kind === target.kind && o.metadata.name === target.name);
    if (index < 0) throw new Error(`${dir}: patch ${path} targets ${target.kind}/${target.name}, which does not exist`);
    const patched = jsonPatch(objects[index], ops, `${dir}/${path}`);
    return objects.map((o, i) => (i === index ? asKObject(patched, path) : o));
  }
  // kustomize's `patches` field takes one patch per file (issue kubernetes-sigs/kustomize#3929)
  if (docs.length !== 1) throw new Error(`${dir}: ${path} holds ${docs.length} documents; patches take one per file`);
  const patch = asKObject(docs[0], `${dir}/${path}`);
  const kind = target?.kind ?? patch.kind;
  const name = target?.name ?? patch.metadata.name;
  const index = objects.findIndex((o) => o.kind === kind && o.metadata.name === name);
  if (index < 0) throw new Error(`${dir}: patch ${path} targets ${kind}/${name}, which does not exist`);
  const merged = strategicMerge(objects[index], patch, '');
  return objects.map((o, i) => (i === index ? asKObject(merged, path) : o));
}

/** Lists merged element by element (patchMergeKey in the Kubernetes API); other lists are replaced. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  topologySpreadConstraints: 'topologyKey',
};

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === 'ports') return items.every((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

/** Strategic merge patch, the subset Deployments need: maps merge, null deletes, keyed lists merge. */
export function strategicMerge(target: Json, patch: Json, field: string): Json {
  if (isObject(target) && isObject(patch)) {
    const out: JsonObject = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new Error(`strategic merge directive ${key} is not supported by this renderer`);
      if (value === null) delete out[key];
      else out[key] = key in out ? strategicMerge(out[key], value, key) : clone(value);
    }
    return out;
  }
  if (Array.isArray(target) && Array.isArray(patch)) {
    const mergeKey = mergeKeyFor(field, [...target, ...patch]);
    if (!mergeKey) return clone(patch);
    const out = [...target];
    for (const item of patch) {
      if (!isObject(item) || item[mergeKey] === undefined) throw new Error(`list ${field}: every patch element needs ${mergeKey}`);
      const at = out.findIndex((t) => isObject(t) && t[mergeKey] === item[mergeKey]);
      if (at >= 0) out[at] = strategicMerge(out[at], item, field);
      else out.push(clone(item));
    }
    return out;
  }
  return clone(patch);
}

const pointer = (path: string): string[] =>
  path
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));

/** RFC 6902 add / replace / remove. */
export function jsonPatch(doc: Json, ops: Json[], origin: string): Json {
  const root = clone(doc);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new Error(`${origin}: malformed JSON patch operation`);
    const tokens = pointer(op.path);
    const last = tokens.pop();
    if (last === undefined) throw new Error(`${origin}: cannot patch the document root`);
    let parent: Json = root;
    for (const token of tokens) {
      const next: Json | undefined = Array.isArray(parent) ? parent[Number(token)] : isObject(parent) ? parent[token] : undefined;
      if (next === undefined) throw new Error(`${origin}: ${op.path}: ${token} does not exist`);
      parent = next;
    }
    const value = op.value === undefined ? null : clone(op.value);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`${origin}: ${op.path}: bad index`);
      if (op.op === 'add') parent.splice(index, 0, value);
      else if (op.op === 'replace') parent[index] = value;
      else if (op.op === 'remove') parent.splice(index, 1);
      else throw new Error(`${origin}: unsupported op ${op.op}`);
    } else if (isObject(parent)) {
      if (op.op === 'add') parent[last] = value;
      else if ((op.op === 'replace' || op.op === 'remove') && !(last in parent)) throw new Error(`${origin}: ${op.path} does not exist`);
      else if (op.op === 'replace') parent[last] = value;
      else if (op.op === 'remove') delete parent[last];
      else throw new Error(`${origin}: unsupported op ${op.op}`);
    } else {
      throw new Error(`${origin}: ${op.path}: parent is not a container`);
    }
  }
  return root;
}

/** `name[:tag][@digest]` split the way kustomize's image transformer does. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [nameAndTag, digest] = image.split('@');
  const slash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > slash;
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Every container and init container of a workload (Deployment, Job, Pod, CronJob). */
export function podContainers(o: KObject): JsonObject[] {
  const specs: Json[] = [];
  const spec = o.spec;
  if (isObject(spec)) {
    specs.push(spec);
    if (isObject(spec.template)) specs.push(spec.template.spec ?? null);
    if (isObject(spec.jobTemplate) && isObject(spec.jobTemplate.spec) && isObject(spec.jobTemplate.spec.template)) specs.push(spec.jobTemplate.spec.template.spec ?? null);
  }
  return specs.flatMap((s) =>
    isObject(s) ? [...(Array.isArray(s.containers) ? s.containers : []), ...(Array.isArray(s.initContainers) ? s.initContainers : [])].filter(isObject) : [],
  );
}

function setImages(o: KObject, entry: { name: string; newName?: string; newTag?: string; digest?: string }): void {
  for (const container of podContainers(o)) {
    if (typeof container.image !== 'string') continue;
    const current = parseImage(container.image);
    if (current.name !== entry.name) continue;
    const name = entry.newName ?? current.name;
    if (entry.digest) container.image = `${name}@${entry.digest}`;
    else if (entry.newTag) container.image = `${name}:${entry.newTag}`;
    else container.image = `${name}${current.tag ? `:${current.tag}` : ''}${current.digest ? `@${current.digest}` : ''}`;
  }
}
