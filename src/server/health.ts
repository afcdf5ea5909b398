/**
 * Liveness and readiness (SPEC O2, O3). `/healthz` answers while the process serves HTTP at all
 * (src/http/app.ts); `/readyz` is ready only when storage and bus (and, on a cluster node, the
 * KV bucket of its tick leases) each answer a check within CHECK_TIMEOUT_MS and the server is
 * not draining — what a load balancer or an orchestrator
 * should route on. The same checks feed the `attune_dependency_up` gauge (metrics.ts).
 */
import type { Bus, KvStore } from '../bus/port.ts';
import type { Storage } from '../storage/port.ts';
import { type DependencyCheck, runCheck } from './metrics.ts';

/** A probe of the storage: its own `healthy()` when it has one (PostgreSQL), else a cheap read. */
export function storageCheck(storage: Storage, kind: string): DependencyCheck {
  const own = (storage as { healthy?: () => Promise<boolean> }).healthy;
  return {
    name: 'storage',
    kind,
    check: async () => {
      if (own) return own.call(storage);
      await storage.getSpace('readyz-probe');
      return true;
    },
  };
}

/** A probe of the bus: a flush, which on NATS is a round trip to the server. */
export function busCheck(bus: Bus, kind: string): DependencyCheck {
  return {
    name: 'bus',
    kind,
    check: async () => {
      await bus.flush();
      return true;
    },
  };
}

/**
 * A probe of a cluster's lease store (SPEC K1, O3): a read of a key nobody writes, which on NATS
 * is a JetStream request to the bucket's stream — it fails when the connection is gone, JetStream
 * is off or the bucket was deleted, each of which stops lease renewals and takeovers.
 */
export function kvCheck(kv: Pick<KvStore, 'get'>, kind: string): DependencyCheck {
  return {
    name: 'kv',
    kind,
    check: async () => {
      await kv.get('readyz.probe');
      return true;
    },
  };
}

/** What `/readyz` answers. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly checks: readonly { readonly name: string; readonly kind: string; readonly up: boolean }[];
}

/** Readiness of one server: its dependency checks and whether it is draining. */
export class Readiness {
  readonly #checks: readonly DependencyCheck[];
  #draining = false;

  constructor(checks: readonly DependencyCheck[]) {
    this.#checks = checks;
  }

  /** From now on not ready (SIGTERM: drain before closing). */
  drain(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Runs every check (in parallel, each bounded by its timeout). */
  async report(): Promise<ReadinessReport> {
    const ups = await Promise.all(this.#checks.map((c) => runCheck(c)));
    const checks = this.#checks.map((c, i) => ({ name: c.name, kind: c.kind, up: ups[i] === true }));
    return { ready: !this.#draining && checks.every((c) => c.up), draining: this.#draining, checks };
  }
}
