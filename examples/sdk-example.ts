/**
 * A release workflow written with the TypeScript SDK instead of YAML: build once,
 * lint and test in parallel, roll out region by region, then verify.
 *   node -r @swc-node/register examples/sdk-example.ts > release.yaml && npx weft run release.yaml
 */
import { chain, fanOutFanIn, parallel, step, workflow } from '@weft/sdk';

export const REGIONS = ['eu-west-1', 'us-east-1', 'ap-south-1'] as const;

export const release = workflow('release', {
  description: 'Build once, lint and test in parallel, deploy to every region, verify',
  defaults: { timeout: '1m', retry: { maxAttempts: 3, backoff: 'exponential', initialInterval: '100ms', maxInterval: '2s' } },
  timeout: '10m',
})
  .input('version', { type: 'string', default: '1.4.2', description: 'Version to release.' })
  .add(
    chain(
      step('build', 'transform', { with: { expr: '{"artifact": "webapp-" + inputs.version + ".tgz"}' } }),
      parallel(
        step('lint', 'log', { with: { message: 'Linting ${{ steps.build.output.artifact }}' } }),
        step('unit_tests', 'sleep', { with: { duration: '50ms' }, timeout: '10s' }),
      ),
      fanOutFanIn({
        id: 'deploy',
        items: REGIONS,
        action: 'noop',
        // '$item' alone keeps the item's type; inside text it is substituted as text.
        with: { region: '$item', artifact: '${{ steps.build.output.artifact }}', url: 'https://$item.example.com' },
        join: { id: 'verify', action: 'transform', with: { expr: '$outputs.map(d, d.region)' } },
      }),
    ),
  )
  // Needs are checked at compile time: 'verify' exists, a typo would not compile.
  .step('announce', 'log', { needs: ['verify'], with: { message: 'Released ${{ inputs.version }} to ${{ size(steps.verify.output) }} regions' } })
  .output('artifact', '${{ steps.build.output.artifact }}')
  .output('regions', '${{ steps.verify.output }}');

if (require.main === module) process.stdout.write(release.toYAML());
