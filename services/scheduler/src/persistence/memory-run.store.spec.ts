import { MemoryRunStore } from './memory-run.store';
import { describeRunStoreContract } from '../testing/run-store.contract';

describeRunStoreContract('memory', async (options) => {
  const store = new MemoryRunStore(Date.now, options);
  return { store, cleanup: () => store.close() };
});
