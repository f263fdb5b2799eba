import { join } from 'node:path';
import { validateObject } from './k8s-validate.util';
import { type Json, type KObject, readYamlDocuments } from './kustomize.util';
import { find, obj, ofKind, REPO, renderEnv, str, stringMap } from './manifests.helpers';

const values = (file: string): Json => readYamlDocuments(join(REPO, file))[0];
const at = (v: Json, path: string): Json | undefined => path.split('.').reduce<Json | undefined>((cur, key) => obj(cur)[key], v);

/** `2.12.1-alpine` -> [2, 12, 1] */
const version = (tag: string): number[] => (/^(\d+)\.(\d+)\.(\d+)/.exec(tag) ?? []).slice(1).map(Number);
const atLeast = (v: number[], min: number[]): boolean => {
  for (let i = 0; i < min.length; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i];
  return true;
};

describe('deploy/nats', () => {
  const prod = values('deploy/nats/values.yaml');
  const dev = values('deploy/nats/values-dev.yaml');

  it.each([
    ['values.yaml', prod],
    ['values-dev.yaml', dev],
  ])('%s stores JetStream on disk and fsyncs before acknowledging', (_, v) => {
    expect(at(v, 'config.jetstream.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.fileStore.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.fileStore.pvc.enabled')).toBe(true);
    expect(at(v, 'config.jetstream.memoryStore.enabled')).toBe(false);
    expect(at(v, 'config.jetstream.merge.sync_interval')).toBe('always');
    // 2.10.20-2.10.22 lost whole streams on process crashes (fixed in 2.10.23, Jepsen 2025)
    const tag = str(at(v, 'container.image.tag')) ?? '';
    expect(tag).not.toMatch(/latest/);
    expect(atLeast(version(tag), [2, 10, 23])).toBe(true);
  });

  it('runs three servers in prod', () => {
    expect(at(prod, 'config.cluster.enabled')).toBe(true);
    expect(at(prod, 'config.cluster.replicas')).toBe(3);
  });

  it('serves monitoring where KEDA reads consumer lag, next to the client URL the services use', () => {
    const env = renderEnv('prod', 'deploy/k8s/overlays/prod', 'deploy/k8s/overlays/prod/migrate', 'weft');
    const [scaled] = ofKind(env.objects, 'ScaledObject');
    const triggers = obj(scaled.spec).triggers;
    const trigger = stringMap(obj(Array.isArray(triggers) ? triggers[0] : null).metadata);
    const [host, port] = (trigger.natsServerMonitoringEndpoint ?? '').split(':');
    expect(at(prod, 'config.monitor.enabled')).toBe(true);
    expect(Number(port)).toBe(at(prod, 'config.monitor.port'));
    const natsUrl = new URL((stringMap(find(env.objects, 'ConfigMap', 'weft-config').data).NATS_URL ?? '').replace(/^nats:/, 'http:'));
    // the chart names its Services <release> and <release>-headless, in the release namespace
    const [release, namespace] = natsUrl.hostname.split('.');
    expect(host).toBe(`${release}-headless.${namespace}.svc.cluster.local`);
  });
});

describe('deploy/postgres', () => {
  const clusters = ['deploy/postgres/cluster-prod.yaml', 'deploy/postgres/cluster-dev.yaml'].map((f) => readYamlDocuments(join(REPO, f))[0] as KObject);

  it('has valid CloudNativePG clusters on a pinned PostgreSQL 13 or newer', () => {
    for (const c of clusters) {
      expect(() => validateObject(c)).not.toThrow();
      const tag = (str(obj(c.spec).imageName) ?? '').split(':')[1] ?? '';
      expect(Number(tag.split('.')[0])).toBeGreaterThanOrEqual(13); // gen_random_uuid() is built in from 13
      expect(tag).toMatch(/^\d+\.\d+$/);
    }
  });

  it('replicates prod synchronously across three instances', () => {
    const spec = obj(clusters[0].spec);
    expect(spec.instances).toBe(3);
    expect(spec.minSyncReplicas).toBeGreaterThanOrEqual(1);
    expect(obj(spec.affinity).enablePodAntiAffinity).toBe(true);
  });

  it('gives dev the database its overlay reads', () => {
    const dev = renderEnv('dev', 'deploy/k8s/overlays/dev', 'deploy/k8s/overlays/dev/migrate', 'weft-dev');
    const cluster = clusters[1];
    expect(cluster.metadata.namespace).toBe(dev.namespace);
    expect(at(cluster, 'spec.bootstrap.initdb.database')).toBe('weft');
    const text = JSON.stringify(find(dev.objects, 'Deployment', 'weft-scheduler'));
    expect(text).toContain(`"secretKeyRef":{"name":"${cluster.metadata.name}-app","key":"uri"}`);
  });
});
