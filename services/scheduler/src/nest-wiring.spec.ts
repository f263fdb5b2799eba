import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as wiring from './nest-wiring';
import * as scheduler from './index';

describe('@weft/scheduler: the control-plane API and the Nest module, loaded on first use', () => {
  it('NEST_WIRING names every value export of nest-wiring.ts, and the package hands out the same values', () => {
    expect([...scheduler.NEST_WIRING].sort()).toEqual(Object.keys(wiring).sort());
    for (const name of scheduler.NEST_WIRING) expect(scheduler[name]).toBe(wiring[name]);
  });

  it('importing the package loads neither Nest, @weft/platform nor the API until one of them is used', () => {
    // A fresh process: jest's module registry is not require.cache.
    const script = `
      require('reflect-metadata');
      require(${JSON.stringify(require.resolve('@swc-node/register'))});
      const heavy = () => Object.keys(require.cache).filter((f) => /[\\\\/](@nestjs[\\\\/]common|rxjs|libs[\\\\/]platform|scheduler[\\\\/]src[\\\\/]api)[\\\\/]/.test(f)).length;
      const s = require(${JSON.stringify(require.resolve('./index'))});
      const before = heavy();
      new s.MemoryRunStore();
      const idle = heavy();
      void s.SchedulerModule;
      console.log(JSON.stringify([before, idle, heavy() > 0]));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, SWC_NODE_PROJECT: join(__dirname, '..', '..', '..', 'tsconfig.base.json') } });
    expect(JSON.parse(out.trim().split('\n').pop() ?? '')).toEqual([0, 0, true]);
  });
});
