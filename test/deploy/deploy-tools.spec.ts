import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unknownFields, validateObject } from './k8s-validate.util';
import { isObject, jsonPatch, type JsonObject, type KObject, kustomize, parseImage, podContainers, strategicMerge } from './kustomize.util';
import { labelValuesQuery, promqlRefs } from './promql.util';

// The checks in the other deploy specs are only as good as these helpers: pin them down.

describe('strategicMerge', () => {
  const deployment: JsonObject = {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], args: ['one'] },
            { name: 'b', image: 'b:1' },
          ],
        },
      },
    },
  };

  it('merges containers and env by name, replaces plain lists, deletes on null', () => {
    const before = JSON.stringify(deployment);
    const merged = strategicMerge(
      deployment,
      { spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: '3' }, { name: 'Z', value: '4' }], args: ['two'], image: null }] } } } },
      '',
    );
    expect(merged).toEqual({
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              { name: 'a', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '3' }, { name: 'Z', value: '4' }], args: ['two'] },
              { name: 'b', image: 'b:1' },
            ],
          },
        },
      },
    });
    // the input is left alone
    expect(JSON.stringify(deployment)).toBe(before);
  });

  it('refuses directives it does not implement rather than guessing', () => {
    expect(() => strategicMerge(deployment, { spec: { $patch: 'replace' } }, '')).toThrow(/not supported/);
  });
});

describe('jsonPatch', () => {
  const ingress = { spec: { rules: [{ http: { paths: [] } }] } };

  it('adds into arrays and objects', () => {
    expect(
      jsonPatch(
        ingress,
        [
          { op: 'add', path: '/spec/rules/0/host', value: 'a.example' },
          { op: 'add', path: '/spec/tls', value: [{ hosts: ['a.example'] }] },
        ],
        't',
      ),
    ).toEqual({ spec: { rules: [{ http: { paths: [] }, host: 'a.example' }], tls: [{ hosts: ['a.example'] }] } });
  });

  it('fails on a path that does not exist', () => {
    expect(() => jsonPatch(ingress, [{ op: 'add', path: '/spec/rulez/0/host', value: 'x' }], 't')).toThrow(/rulez does not exist/);
    expect(() => jsonPatch(ingress, [{ op: 'replace', path: '/spec/tls', value: [] }], 't')).toThrow(/does not exist/);
  });
});

describe('parseImage', () => {
  it.each([
    ['weft-scheduler:0.1.0', { name: 'weft-scheduler', tag: '0.1.0' }],
    ['localhost:5000/weft/executor', { name: 'localhost:5000/weft/executor' }],
    ['registry.example.com:443/weft/x:1.2.3@sha256:abc', { name: 'registry.example.com:443/weft/x', tag: '1.2.3', digest: 'sha256:abc' }],
  ])('%s', (image, expected) => {
    expect(parseImage(image)).toEqual(expected);
  });
});

describe('kustomize', () => {
  let root: string;
  const write = (path: string, text: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'weft-kustomize-'));
    write(
      'base/kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: one\nresources: [app.yaml]\nconfigMapGenerator:\n  - name: cfg\n    literals: [A=1, B=x=y]\n',
    );
    write(
      'base/app.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: "app:1"}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: app}\n',
    );
    write('comp/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [extra.yaml]\n');
    write('comp/extra.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('renders resources, components, generators, patches, images and the namespace', () => {
    write(
      'overlay/kustomization.yaml',
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: two',
        'resources: [../base]',
        'components: [../comp]',
        'configMapGenerator:',
        '  - {name: cfg, behavior: merge, literals: [B=2]}',
        'patches:',
        '  - path: replicas.yaml',
        'images:',
        '  - {name: app, newName: reg.example/app, newTag: "2"}',
      ].join('\n'),
    );
    write('overlay/replicas.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: {replicas: 3}\n');
    const visited = new Set<string>();
    const objects = kustomize(join(root, 'overlay'), visited);

    expect(objects.map((o) => `${o.kind}/${o.metadata.name}@${String(o.metadata.namespace)}`).sort()).toEqual([
      'ConfigMap/cfg@two',
      'ConfigMap/extra@two',
      'Deployment/app@two',
      'Service/app@two',
    ]);
    const byName = (kind: string, name: string): KObject => {
      const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
      if (!found) throw new Error(`${kind}/${name} missing`);
      return found;
    };
    expect(byName('ConfigMap', 'cfg').data).toEqual({ A: '1', B: '2' });
    const app = byName('Deployment', 'app');
    expect(isObject(app.spec) && app.spec.replicas).toBe(3);
    expect(podContainers(app).map((c) => c.image)).toEqual(['reg.example/app:2']);
    expect([...visited].map((f) => f.slice(root.length)).sort()).toEqual([
      '/base/app.yaml',
      '/base/kustomization.yaml',
      '/comp/extra.yaml',
      '/comp/kustomization.yaml',
      '/overlay/kustomization.yaml',
      '/overlay/replicas.yaml',
    ]);
  });

  it('fails on fields it does not implement, on missing targets, outside the root and on multi-patch files', () => {
    write('a/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\ncommonLabels: {x: y}\n');
    expect(() => kustomize(join(root, 'a'))).toThrow(/commonLabels|unsupported/);
    write('b/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\npatches: [{path: p.yaml}]\n');
    write('b/p.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nope}\n');
    expect(() => kustomize(join(root, 'b'))).toThrow(/Deployment\/nope, which does not exist/);
    write('c/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base/app.yaml]\n');
    expect(() => kustomize(join(root, 'c'))).toThrow(/outside the kustomization root/);
    write('d/kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\npatches: [{path: two.yaml}]\n');
    write('d/two.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: app}\n');
    expect(() => kustomize(join(root, 'd'))).toThrow(/holds 2 documents/);
  });
});

describe('validateObject', () => {
  const deployment = (container: Record<string, unknown>): KObject =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1', ...container }] } },
      },
    }) as unknown as KObject;

  it('accepts a valid Deployment', () => {
    expect(() => validateObject(deployment({ readinessProbe: { httpGet: { path: '/health/ready', port: 'http' } } }))).not.toThrow();
  });

  it('rejects schema violations and unknown fields', () => {
    expect(() => validateObject(deployment({ ports: [{ containerPort: 'http' }] }))).toThrow(/containerPort must be integer/);
    expect(unknownFields(deployment({ readinesProbe: {} }))).toEqual(['spec.template.spec.containers[0].readinesProbe']);
    expect(() => validateObject(deployment({ livenessProbe: { httpGet: { path: '/', port: 8080, scheme: 'HTTP', host: 'x', pathh: '/' } } }))).toThrow(
      /livenessProbe\.httpGet\.pathh/,
    );
  });

  it('has no validator for kinds it does not know', () => {
    expect(() => validateObject({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toThrow(/no validator/);
  });

  it('requires string metadata in KEDA triggers', () => {
    const scaledObject = (lagThreshold: unknown): KObject =>
      ({
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 's' },
        spec: {
          scaleTargetRef: { name: 'd' },
          triggers: [{ type: 'nats-jetstream', metadata: { natsServerMonitoringEndpoint: 'nats:8222', account: '$G', stream: 'S', consumer: 'c', lagThreshold } }],
        },
      }) as unknown as KObject;
    expect(() => validateObject(scaledObject('10'))).not.toThrow();
    expect(() => validateObject(scaledObject(10))).toThrow(/lagThreshold/);
  });
});

describe('promqlRefs', () => {
  it('lists metrics, matcher labels and grouping labels, skipping functions, strings, ranges and variables', () => {
    const refs = promqlRefs(
      'histogram_quantile(0.95, sum by (queue, le) (rate(weft_dispatch_latency_seconds_bucket{namespace=~"$namespace", queue=~"a,b}"}[$__rate_interval]))) > 30',
    );
    expect(refs.selectors).toEqual([{ metric: 'weft_dispatch_latency_seconds_bucket', labels: ['namespace', 'queue'] }]);
    expect(refs.grouping).toEqual(['queue', 'le']);
  });

  it('handles binary operators with on/unless, offsets and aggregations with trailing by', () => {
    const refs = promqlRefs(
      'max(weft_queue_depth) by (queue) > 0 unless on (queue) sum(weft_executor_queues offset 5m) > 0 and absent(weft_outbox_backlog{service="weft-scheduler"})',
    );
    expect(refs.selectors.map((s) => s.metric)).toEqual(['weft_queue_depth', 'weft_executor_queues', 'weft_outbox_backlog']);
    expect(refs.selectors[2].labels).toEqual(['service']);
    expect(refs.grouping).toEqual(['queue', 'queue']);
  });

  it('parses Grafana label_values queries', () => {
    expect(labelValuesQuery('label_values(weft_queue_depth{namespace=~"$namespace"}, queue)')).toEqual({ selector: 'weft_queue_depth{namespace=~"$namespace"}', label: 'queue' });
    expect(labelValuesQuery('weft_queue_depth')).toBeUndefined();
  });
});
