/**
 * A process that holds a live (`startAt: 'new'`) consumer on the events stream until it is
 * killed, for the JetStream test that the broker deletes the consumer of a dead process.
 * Run with `node -r @swc-node/register`; argv: servers, prefix, group, liveConsumerInactiveMs.
 * Prints `ready` once the consumer is bound.
 */
import { JetStreamBus } from '../jetstream.bus';

async function main(): Promise<void> {
  const [servers, prefix, group, inactiveMs] = process.argv.slice(2);
  const bus = await JetStreamBus.connect({
    servers,
    prefix,
    name: `weft-bus-test-child-${prefix}`,
    pullExpiresMs: 1_000,
    liveConsumerInactiveMs: Number(inactiveMs),
    onError: () => undefined,
  });
  await bus.consume('weft.event.>', { group, startAt: 'new' }, async () => undefined);
  process.stdout.write('ready\n');
  // Held open by the bus's connection until the test kills this process.
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
