import { LocalBus } from '../../src/bus/local/localBus.ts';
import { busContract } from './bus.contract.ts';

busContract('local', async () => {
  const bus = new LocalBus();
  bus.onHandlerError = () => {};
  return bus;
});
