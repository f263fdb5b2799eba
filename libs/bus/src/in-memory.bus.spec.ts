import { describeBusContract } from './bus.contract';
import { InMemoryBus } from './in-memory.bus';

describeBusContract('InMemoryBus', async () => {
  const bus = new InMemoryBus({ errorNakDelayMs: 20 });
  return { bus, cleanup: () => bus.close() };
});
