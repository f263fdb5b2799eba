import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { z } from 'zod';
import { isObject, type Json, type KObject } from './kustomize.util';

/**
 * Offline validation of rendered objects: built-in kinds against the Kubernetes OpenAPI
 * schemas (kubernetes-models), CRDs against minimal zod schemas of the fields we use.
 * kubernetes-models ignores unknown fields, so `unknownFields` adds what the API server's
 * strict field validation would report (a misspelt `readinesProbe` is otherwise silent).
 */

interface Validatable {
  validate(): void;
}

const BUILT_IN: Record<string, (o: KObject) => Validatable> = {
  'apps/v1/Deployment': (o) => new Deployment(o as unknown as ConstructorParameters<typeof Deployment>[0]),
  'v1/Service': (o) => new Service(o as unknown as ConstructorParameters<typeof Service>[0]),
  'v1/ConfigMap': (o) => new ConfigMap(o as unknown as ConstructorParameters<typeof ConfigMap>[0]),
  'v1/Secret': (o) => new Secret(o as unknown as ConstructorParameters<typeof Secret>[0]),
  'networking.k8s.io/v1/Ingress': (o) => new Ingress(o as unknown as ConstructorParameters<typeof Ingress>[0]),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o as unknown as ConstructorParameters<typeof PodDisruptionBudget>[0]),
  'batch/v1/Job': (o) => new Job(o as unknown as ConstructorParameters<typeof Job>[0]),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o as unknown as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]),
};

const labels = z.record(z.string(), z.string());
const metadata = z
  .object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), namespace: z.string().optional(), labels: labels.optional(), annotations: labels.optional() })
  .strict();
const duration = z.string().regex(/^([0-9]+(ms|s|m|h|d|w|y))+$/, 'expected a Prometheus duration such as 30s or 5m');
const matchLabels = z.object({ matchLabels: labels }).strict();

export const ServiceMonitorSchema = z
  .object({
    apiVersion: z.literal('monitoring.coreos.com/v1'),
    kind: z.literal('ServiceMonitor'),
    metadata,
    spec: z
      .object({
        selector: matchLabels,
        namespaceSelector: z.object({ matchNames: z.array(z.string()).optional(), any: z.boolean().optional() }).strict().optional(),
        endpoints: z
          .array(z.object({ port: z.string(), path: z.string().startsWith('/').optional(), interval: duration.optional(), scrapeTimeout: duration.optional() }).strict())
          .min(1),
      })
      .strict(),
  })
  .strict();

export const PrometheusRuleSchema = z
  .object({
    apiVersion: z.literal('monitoring.coreos.com/v1'),
    kind: z.literal('PrometheusRule'),
    metadata,
    spec: z
      .object({
        groups: z
          .array(
            z
              .object({
                name: z.string().min(1),
                interval: duration.optional(),
                rules: z
                  .array(
                    z
                      .object({
                        alert: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
                        expr: z.string().min(1),
                        for: duration.optional(),
                        labels: z.object({ severity: z.enum(['critical', 'warning', 'info']) }).catchall(z.string()),
                        annotations: z.object({ summary: z.string().min(1), description: z.string().min(1), runbook_url: z.string().min(1) }).strict(),
                      })
                      .strict(),
                  )
                  .min(1),
              })
              .strict(),
          )
          .min(1),
      })
      .strict(),
  })
  .strict();

/** KEDA rejects non-string trigger metadata, so the values are strings here too. */
export const ScaledObjectSchema = z
  .object({
    apiVersion: z.literal('keda.sh/v1alpha1'),
    kind: z.literal('ScaledObject'),
    metadata,
    spec: z
      .object({
        scaleTargetRef: z.object({ name: z.string(), kind: z.string().optional(), apiVersion: z.string().optional() }).strict(),
        minReplicaCount: z.number().int().min(0).optional(),
        maxReplicaCount: z.number().int().min(1).optional(),
        pollingInterval: z.number().int().min(1).optional(),
        cooldownPeriod: z.number().int().min(0).optional(),
        advanced: z.object({ horizontalPodAutoscalerConfig: z.object({ behavior: z.record(z.string(), z.unknown()) }).strict() }).strict().optional(),
        triggers: z
          .array(
            z.discriminatedUnion('type', [
              z
                .object({
                  type: z.literal('nats-jetstream'),
                  metadata: z
                    .object({
                      natsServerMonitoringEndpoint: z.string().regex(/^[a-z0-9.-]+:[0-9]+$/, 'host:port, no scheme'),
                      account: z.string(),
                      stream: z.string(),
                      consumer: z.string(),
                      lagThreshold: z.string().regex(/^[0-9]+$/),
                      activationLagThreshold: z.string().regex(/^[0-9]+$/).optional(),
                      useHttps: z.enum(['true', 'false']).optional(),
                    })
                    .strict(),
                })
                .strict(),
            ]),
          )
          .min(1),
      })
      .strict(),
  })
  .strict();

export const CnpgClusterSchema = z
  .object({
    apiVersion: z.literal('postgresql.cnpg.io/v1'),
    kind: z.literal('Cluster'),
    metadata,
    spec: z
      .object({
        instances: z.number().int().min(1),
        minSyncReplicas: z.number().int().min(0).optional(),
        maxSyncReplicas: z.number().int().min(0).optional(),
        imageName: z.string(),
        primaryUpdateStrategy: z.enum(['unsupervised', 'supervised']).optional(),
        bootstrap: z.object({ initdb: z.object({ database: z.string(), owner: z.string() }).strict() }).strict(),
        postgresql: z.object({ parameters: z.record(z.string(), z.string()) }).strict().optional(),
        storage: z.object({ size: z.string().regex(/^[0-9]+[MGT]i$/), storageClass: z.string().optional() }).strict(),
        resources: z.record(z.string(), z.record(z.string(), z.string())).optional(),
        affinity: z.object({ enablePodAntiAffinity: z.boolean().optional(), topologyKey: z.string().optional() }).strict().optional(),
        monitoring: z.object({ enablePodMonitor: z.boolean() }).strict().optional(),
      })
      .strict(),
  })
  .strict();

const CRDS: Record<string, z.ZodType> = {
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitorSchema,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRuleSchema,
  'keda.sh/v1alpha1/ScaledObject': ScaledObjectSchema,
  'postgresql.cnpg.io/v1/Cluster': CnpgClusterSchema,
};

/** Throws with every problem found; unknown kinds are an error, not a pass. */
export function validateObject(o: KObject): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const where = `${o.kind}/${o.metadata.name}`;
  const model = BUILT_IN[key];
  if (model) {
    try {
      model(o).validate();
    } catch (error) {
      throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const unknown = unknownFields(o);
    if (unknown.length > 0) throw new Error(`${where}: unknown field(s) ${unknown.join(', ')}`);
    return;
  }
  const schema = CRDS[key];
  if (!schema) throw new Error(`${where}: no validator for ${key}`);
  const result = schema.safeParse(o);
  if (!result.success) throw new Error(`${where}: ${result.error.message}`);
}

// ---- unknown fields ----------------------------------------------------------------

const SCHEMA_DIR = join(dirname(require.resolve('kubernetes-models/package.json')), '_schemas');
const knownCache = new Map<string, Set<string>>();

/** Property names a generated validator reads (`data.<name>`): the fields of that schema. */
function knownFields(schema: string): Set<string> {
  let known = knownCache.get(schema);
  if (!known) {
    const source = readFileSync(join(SCHEMA_DIR, `${schema}.js`), 'utf8');
    known = new Set([...source.matchAll(/\bdata\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]).filter((n) => n !== 'length'));
    knownCache.set(schema, known);
  }
  return known;
}

const META = new Set(['name', 'namespace', 'labels', 'annotations', 'generateName']);
const V1 = 'IoK8sApiCoreV1';

/** field -> schema of its value; `[]` marks a list of that schema. Fields not listed are checked one level only. */
const CHILDREN: Record<string, Record<string, string>> = {
  IoK8sApiAppsV1Deployment: { metadata: 'meta', spec: 'IoK8sApiAppsV1DeploymentSpec' },
  IoK8sApiAppsV1DeploymentSpec: { template: `${V1}PodTemplateSpec`, strategy: 'IoK8sApiAppsV1DeploymentStrategy' },
  IoK8sApiAppsV1DeploymentStrategy: { rollingUpdate: 'IoK8sApiAppsV1RollingUpdateDeployment' },
  [`${V1}PodTemplateSpec`]: { metadata: 'meta', spec: `${V1}PodSpec` },
  [`${V1}PodSpec`]: {
    containers: `[]${V1}Container`,
    initContainers: `[]${V1}Container`,
    securityContext: `${V1}PodSecurityContext`,
    volumes: `[]${V1}Volume`,
    topologySpreadConstraints: `[]${V1}TopologySpreadConstraint`,
  },
  [`${V1}PodSecurityContext`]: { seccompProfile: `${V1}SeccompProfile` },
  [`${V1}Container`]: {
    ports: `[]${V1}ContainerPort`,
    env: `[]${V1}EnvVar`,
    envFrom: `[]${V1}EnvFromSource`,
    resources: `${V1}ResourceRequirements`,
    startupProbe: `${V1}Probe`,
    readinessProbe: `${V1}Probe`,
    livenessProbe: `${V1}Probe`,
    lifecycle: `${V1}Lifecycle`,
    securityContext: `${V1}SecurityContext`,
    volumeMounts: `[]${V1}VolumeMount`,
  },
  [`${V1}Probe`]: { httpGet: `${V1}HTTPGetAction`, exec: `${V1}ExecAction` },
  [`${V1}Lifecycle`]: { preStop: `${V1}LifecycleHandler` },
  [`${V1}LifecycleHandler`]: { exec: `${V1}ExecAction`, httpGet: `${V1}HTTPGetAction` },
  [`${V1}SecurityContext`]: { capabilities: `${V1}Capabilities`, seccompProfile: `${V1}SeccompProfile` },
  [`${V1}EnvVar`]: { valueFrom: `${V1}EnvVarSource` },
  [`${V1}EnvVarSource`]: { secretKeyRef: `${V1}SecretKeySelector`, fieldRef: `${V1}ObjectFieldSelector` },
  [`${V1}EnvFromSource`]: { configMapRef: `${V1}ConfigMapEnvSource` },
  [`${V1}Volume`]: { emptyDir: `${V1}EmptyDirVolumeSource` },
  [`${V1}Service`]: { metadata: 'meta', spec: `${V1}ServiceSpec` },
  [`${V1}ServiceSpec`]: { ports: `[]${V1}ServicePort` },
  IoK8sApiNetworkingV1Ingress: { metadata: 'meta', spec: 'IoK8sApiNetworkingV1IngressSpec' },
  IoK8sApiNetworkingV1IngressSpec: { rules: '[]IoK8sApiNetworkingV1IngressRule', tls: '[]IoK8sApiNetworkingV1IngressTLS' },
  IoK8sApiNetworkingV1IngressRule: { http: 'IoK8sApiNetworkingV1HTTPIngressRuleValue' },
  IoK8sApiNetworkingV1HTTPIngressRuleValue: { paths: '[]IoK8sApiNetworkingV1HTTPIngressPath' },
  IoK8sApiNetworkingV1HTTPIngressPath: { backend: 'IoK8sApiNetworkingV1IngressBackend' },
  IoK8sApiNetworkingV1IngressBackend: { service: 'IoK8sApiNetworkingV1IngressServiceBackend' },
  IoK8sApiNetworkingV1IngressServiceBackend: { port: 'IoK8sApiNetworkingV1ServiceBackendPort' },
  IoK8sApiPolicyV1PodDisruptionBudget: { metadata: 'meta', spec: 'IoK8sApiPolicyV1PodDisruptionBudgetSpec' },
  IoK8sApiBatchV1Job: { metadata: 'meta', spec: 'IoK8sApiBatchV1JobSpec' },
  IoK8sApiBatchV1JobSpec: { template: `${V1}PodTemplateSpec` },
  IoK8sApiAutoscalingV2HorizontalPodAutoscaler: { metadata: 'meta', spec: 'IoK8sApiAutoscalingV2HorizontalPodAutoscalerSpec' },
  [`${V1}ConfigMap`]: { metadata: 'meta' },
  [`${V1}Secret`]: { metadata: 'meta' },
};

const ROOT_SCHEMA: Record<string, string> = {
  Deployment: 'IoK8sApiAppsV1Deployment',
  Service: `${V1}Service`,
  ConfigMap: `${V1}ConfigMap`,
  Secret: `${V1}Secret`,
  Ingress: 'IoK8sApiNetworkingV1Ingress',
  PodDisruptionBudget: 'IoK8sApiPolicyV1PodDisruptionBudget',
  Job: 'IoK8sApiBatchV1Job',
  HorizontalPodAutoscaler: 'IoK8sApiAutoscalingV2HorizontalPodAutoscaler',
};

/** Paths of fields the schemas do not define, e.g. `spec.template.spec.containers[0].readinesProbe`. */
export function unknownFields(o: KObject): string[] {
  const root = ROOT_SCHEMA[o.kind];
  if (!root) throw new Error(`no field table for ${o.kind}`);
  const problems: string[] = [];
  const walk = (value: Json, schema: string, path: string): void => {
    if (schema.startsWith('[]')) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, schema.slice(2), `${path}[${i}]`));
      return;
    }
    if (!isObject(value)) return;
    const known = schema === 'meta' ? META : knownFields(schema);
    for (const [field, child] of Object.entries(value)) {
      const at = path ? `${path}.${field}` : field;
      if (!known.has(field)) problems.push(at);
      const childSchema = CHILDREN[schema]?.[field];
      if (childSchema) walk(child, childSchema, at);
    }
  };
  walk(o, root, '');
  return problems;
}
