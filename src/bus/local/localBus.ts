/**
 * The in-process Bus: synchronous fan-out to handlers in the same process, with the same
 * contract as the NATS adapter (test/contracts/bus.contract.ts).
 */
import { assertSubject, type Bus, type BusHandler, type Disposable, subjectMatches } from '../port.ts';

interface Sub {
  readonly pattern: string;
  readonly handler: BusHandler;
  active: boolean;
}

/** A Bus within one process. */
export class LocalBus implements Bus {
  private readonly exact = new Map<string, Set<Sub>>();
  private readonly wildcards = new Set<Sub>();
  private closed = false;
  /** Called when a handler throws; defaults to logging on stderr. */
  onHandlerError: (e: unknown, subject: string) => void = (e, subject) => {
    console.error(`bus: handler for ${subject} threw`, e);
  };

  publish(subject: string, data: Uint8Array): void {
    assertSubject(subject);
    if (this.closed) throw new Error('bus is closed');
    const subs = this.exact.get(subject);
    if (subs) for (const s of subs) this.deliver(s, data, subject);
    for (const s of this.wildcards) if (subjectMatches(s.pattern, subject)) this.deliver(s, data, subject);
  }

  private deliver(s: Sub, data: Uint8Array, subject: string): void {
    if (!s.active) return;
    try {
      s.handler(data, subject);
    } catch (e) {
      this.onHandlerError(e, subject);
    }
  }

  subscribe(pattern: string, handler: BusHandler): Disposable {
    if (this.closed) throw new Error('bus is closed');
    assertSubject(pattern.endsWith('.>') ? pattern.slice(0, -2) : pattern);
    const sub: Sub = { pattern, handler, active: true };
    if (pattern.endsWith('.>')) this.wildcards.add(sub);
    else {
      let set = this.exact.get(pattern);
      if (!set) {
        set = new Set();
        this.exact.set(pattern, set);
      }
      set.add(sub);
    }
    return {
      dispose: () => {
        sub.active = false;
        if (pattern.endsWith('.>')) this.wildcards.delete(sub);
        else {
          const set = this.exact.get(pattern);
          set?.delete(sub);
          if (set?.size === 0) this.exact.delete(pattern);
        }
      },
    };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.exact.values()) for (const s of set) s.active = false;
    for (const s of this.wildcards) s.active = false;
    this.exact.clear();
    this.wildcards.clear();
  }

  /** Number of live subscriptions (leak checks in tests). */
  get subscriptionCount(): number {
    let n = this.wildcards.size;
    for (const set of this.exact.values()) n += set.size;
    return n;
  }
}
