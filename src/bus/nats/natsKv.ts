/**
 * The NATS JetStream KV adapter of the {@link KvStore} port (SPEC K1). Compare-and-set is the
 * bucket's `create` (only if absent) and `update(key, value, revision)` (only if the key's last
 * revision is `revision`; a stale one fails with "wrong last sequence"). nats-server 2.9 silently
 * ignores per-message TTL and marker TTLs (../shared/TOOLCHAIN.md), so no expiry is asked for:
 * the cluster builds lease expiry from revisions and its own clock (src/core/cluster/lease.ts).
 */
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { assertKvKey, type KvEntry, type KvStore } from '../port.ts';

/** Settings of a NATS KV store. */
export interface NatsKvOptions {
  /** NATS servers, e.g. `127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** The bucket (created if missing): `[A-Za-z0-9_-]+`, one per deployment or test run. */
  readonly bucket: string;
  readonly name?: string;
}

function isCasFailure(e: unknown): boolean {
  const m = e instanceof Error ? `${e.message} ${String((e as { api_error?: { description?: string } }).api_error?.description ?? '')}` : String(e);
  return /wrong last sequence|key exists|10071/i.test(m);
}

/** A KvStore over one NATS JetStream KV bucket. */
export class NatsKv implements KvStore {
  private readonly nc: NatsConnection;
  private readonly kv: KV;

  private constructor(nc: NatsConnection, kv: KV) {
    this.nc = nc;
    this.kv = kv;
  }

  /** Connects and opens (or creates) the bucket; rejects when no server answers. */
  static async connect(o: NatsKvOptions): Promise<NatsKv> {
    if (!/^[A-Za-z0-9_-]+$/.test(o.bucket)) throw new Error(`invalid kv bucket name '${o.bucket}'`);
    const nc = await connect({ servers: typeof o.servers === 'string' ? o.servers : [...o.servers], name: o.name ?? 'attune-kv', maxReconnectAttempts: -1 });
    try {
      const kv = await new Kvm(nc).create(o.bucket, { history: 1 });
      return new NatsKv(nc, kv);
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  async get(key: string): Promise<KvEntry | null> {
    assertKvKey(key);
    const e = await this.kv.get(key);
    if (e?.operation !== 'PUT') return null;
    return { value: e.value, revision: e.revision };
  }

  async create(key: string, value: Uint8Array): Promise<number | null> {
    assertKvKey(key);
    try {
      return await this.kv.create(key, value);
    } catch (e) {
      if (isCasFailure(e)) return null;
      throw e;
    }
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number | null> {
    assertKvKey(key);
    try {
      return await this.kv.update(key, value, revision);
    } catch (e) {
      if (isCasFailure(e)) return null;
      throw e;
    }
  }

  async destroy(): Promise<void> {
    await this.kv.destroy();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain();
  }
}
