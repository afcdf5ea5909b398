import { randomBytes } from 'node:crypto';
import { LocalBus } from '../../src/bus/local/localBus.ts';
import { NatsBus } from '../../src/bus/nats/natsBus.ts';
import { busContract } from './bus.contract.ts';

busContract('local', async () => {
  const bus = new LocalBus();
  bus.onHandlerError = () => {};
  return bus;
});

// A real nats-server (127.0.0.1:4222 on this machine and in CI; NATS_URL overrides). Each test
// gets its own subject prefix so runs never see each other's messages.
busContract('nats', async () => {
  const bus = await NatsBus.connect({ servers: process.env.NATS_URL ?? '127.0.0.1:4222', prefix: `test${randomBytes(6).toString('hex')}` });
  bus.onHandlerError = () => {};
  return bus;
});
