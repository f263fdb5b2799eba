import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isObject, type Json, type JsonObject, type KObject, kustomize } from './kustomize.util';

/** Lookups over rendered manifests, shared by the deploy specs. */

export const REPO = resolve(__dirname, '..', '..');
/** The services deploy/ ships. */
export const SERVICES = ['scheduler', 'executor', 'journal', 'analytics', 'triggers'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Services that can run, from the filesystem: those with a services/<name>/src/main.ts. */
export const RUNNABLE_SERVICES: string[] = readdirSync(join(REPO, 'services'))
  .filter((name) => existsSync(join(REPO, 'services', name, 'src', 'main.ts')))
  .sort();

export interface Env {
  name: string;
  dir: string;
  migrateDir: string;
  namespace: string;
  objects: KObject[];
  migrate: KObject[];
  visited: Set<string>;
}

export function renderEnv(name: string, dir: string, migrateDir: string, namespace: string): Env {
  const visited = new Set<string>();
  const objects = kustomize(resolve(REPO, dir), visited);
  const migrate = kustomize(resolve(REPO, migrateDir), visited);
  return { name, dir, migrateDir, namespace, objects, migrate, visited };
}

export const obj = (value: Json | undefined): JsonObject => (isObject(value) ? value : {});
export const arr = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : []);
export const str = (value: Json | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
export const num = (value: Json | undefined): number | undefined => (typeof value === 'number' ? value : undefined);
export const stringMap = (value: Json | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(value)).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));

export const ofKind = (objects: KObject[], kind: string): KObject[] => objects.filter((o) => o.kind === kind);

export function find(objects: KObject[], kind: string, name: string): KObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
}

export const labelsOf = (o: KObject): Record<string, string> => stringMap(o.metadata.labels);
export const podTemplate = (o: KObject): JsonObject => obj(obj(o.spec).template);
export const podLabels = (o: KObject): Record<string, string> => stringMap(obj(podTemplate(o).metadata).labels);
export const podSpec = (o: KObject): JsonObject => obj(podTemplate(o).spec);
export const containersOf = (o: KObject): JsonObject[] => arr(podSpec(o).containers).map(obj);
export const matchLabels = (selector: Json | undefined): Record<string, string> => stringMap(obj(selector).matchLabels);

/** A selector selects a pod when every one of its labels is on the pod (an empty selector selects nothing here). */
export const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Kubernetes quantities: cpu in cores, memory in bytes. */
export function quantity(value: Json | undefined): number {
  const text = typeof value === 'number' ? String(value) : str(value);
  if (text === undefined) return Number.NaN;
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!m) return Number.NaN;
  const factor: Record<string, number> = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1);
}

export type EnvValue = { kind: 'value'; value: string } | { kind: 'secret'; name: string; key: string } | { kind: 'field'; path: string };

/** A container's environment as Kubernetes builds it: envFrom ConfigMaps first, then env. */
export function containerEnv(container: JsonObject, objects: KObject[]): Map<string, EnvValue> {
  const env = new Map<string, EnvValue>();
  for (const source of arr(container.envFrom).map(obj)) {
    const ref = str(obj(source.configMapRef).name);
    if (ref === undefined) throw new Error('only configMapRef envFrom is expected');
    for (const [k, v] of Object.entries(stringMap(find(objects, 'ConfigMap', ref).data))) env.set(k, { kind: 'value', value: v });
  }
  for (const e of arr(container.env).map(obj)) {
    const name = str(e.name) ?? '';
    const from = obj(e.valueFrom);
    if (typeof e.value === 'string') env.set(name, { kind: 'value', value: e.value });
    else if (isObject(from.secretKeyRef)) env.set(name, { kind: 'secret', name: str(from.secretKeyRef.name) ?? '', key: str(from.secretKeyRef.key) ?? '' });
    else if (isObject(from.fieldRef)) env.set(name, { kind: 'field', path: str(from.fieldRef.fieldPath) ?? '' });
    else throw new Error(`env ${name}: unexpected source`);
  }
  return env;
}

export const envValue = (env: Map<string, EnvValue>, name: string): string | undefined => {
  const v = env.get(name);
  return v?.kind === 'value' ? v.value : undefined;
};

/** The Deployment of a Weft service in a rendered environment. */
export const deploymentOf = (objects: KObject[], service: ServiceName): KObject => find(objects, 'Deployment', `weft-${service}`);

export function onlyContainer(o: KObject): JsonObject {
  const containers = containersOf(o);
  if (containers.length !== 1) throw new Error(`${o.metadata.name}: expected one container, found ${containers.length}`);
  return containers[0];
}
