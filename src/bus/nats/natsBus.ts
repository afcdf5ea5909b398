/**
 * The NATS Bus adapter (core NATS pub/sub, at-most-once, per-subject order per subscriber —
 * the same contract as the in-process bus, test/contracts/bus.contract.ts). Lets several attune
 * processes share spaces: each publishes its pulses, each edge subscribes to the spaces of its
 * sockets.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { assertSubject, type Bus, type BusHandler, type Disposable } from '../port.ts';

/** Settings of the NATS bus. */
export interface NatsBusOptions {
  /** NATS servers, e.g. `127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** Subject prefix isolating one deployment (or one test) from others; default `attune`. */
  readonly prefix?: string;
  /** Connection name shown by the NATS server. */
  readonly name?: string;
}

/** A Bus over a NATS connection. */
export class NatsBus implements Bus {
  private readonly nc: NatsConnection;
  private readonly prefix: string;
  private readonly subs = new Set<Subscription>();
  /** Called when a handler throws; defaults to logging on stderr. */
  onHandlerError: (e: unknown, subject: string) => void = (e, subject) => {
    console.error(`bus: handler for ${subject} threw`, e);
  };

  private constructor(nc: NatsConnection, prefix: string) {
    this.nc = nc;
    this.prefix = prefix;
  }

  /** Connects; rejects with the NATS error when no server answers. */
  static async connect(o: NatsBusOptions): Promise<NatsBus> {
    const prefix = o.prefix ?? 'attune';
    assertSubject(prefix);
    const nc = await connect({ servers: typeof o.servers === 'string' ? o.servers : [...o.servers], name: o.name ?? 'attune', maxReconnectAttempts: -1 });
    return new NatsBus(nc, prefix);
  }

  publish(subject: string, data: Uint8Array): void {
    assertSubject(subject);
    this.nc.publish(`${this.prefix}.${subject}`, data);
  }

  subscribe(pattern: string, handler: BusHandler): Disposable {
    assertSubject(pattern.endsWith('.>') ? pattern.slice(0, -2) : pattern);
    const strip = this.prefix.length + 1;
    const sub = this.nc.subscribe(`${this.prefix}.${pattern}`, {
      callback: (err, msg) => {
        if (err) return;
        const subject = msg.subject.slice(strip);
        try {
          handler(msg.data, subject);
        } catch (e) {
          this.onHandlerError(e, subject);
        }
      },
    });
    this.subs.add(sub);
    return {
      dispose: () => {
        this.subs.delete(sub);
        sub.unsubscribe();
      },
    };
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    for (const s of this.subs) s.unsubscribe();
    this.subs.clear();
    await this.nc.drain();
  }
}
