import { MemoryRunStore } from './memory-run.store';
import { describeRunStoreContract } from './run-store.contract';

describeRunStoreContract('memory', async () => {
  const store = new MemoryRunStore();
  return { store, cleanup: () => store.close() };
});
