import { randomBytes } from 'node:crypto';
import { MemoryKv } from '../../src/bus/local/memoryKv.ts';
import { NatsKv } from '../../src/bus/nats/natsKv.ts';
import { kvContract } from './kv.contract.ts';

kvContract('memory', async () => new MemoryKv());

// A real nats-server with JetStream (127.0.0.1:4222 here and in CI; NATS_URL overrides); each test
// its own bucket, destroyed afterwards.
kvContract('nats', async () => NatsKv.connect({ servers: process.env.NATS_URL ?? '127.0.0.1:4222', bucket: `test_kv_${randomBytes(6).toString('hex')}` }));
