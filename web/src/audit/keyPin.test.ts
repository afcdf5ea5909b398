import { describe, expect, it } from 'vitest';
import { decidePin, loadPin, needsConfirmation, type PinState, replacePin, savePin } from './keyPin.ts';

const K1 = 'log.example+1234abcd+AAAA';
const K2 = 'log.example+9999ffff+BBBB';
const empty: PinState = { key: null, changed: null };

describe('audit key pinning', () => {
  it('[A2] a link pins its key only when none is pinned (trust on first use)', () => {
    expect(decidePin(empty, K1)).toEqual({ state: { key: K1, changed: null }, verifyWith: K1, offered: null, pinnedFromLink: true });
    expect(decidePin(empty, null)).toEqual({ state: empty, verifyWith: '', offered: null, pinnedFromLink: false });
    expect(decidePin({ key: K1, changed: null }, ` ${K1} `).offered).toBeNull();
  });

  it('[A2] a link with a different key never replaces the pinned one: it is offered, and the pinned key is used', () => {
    const pinned: PinState = { key: K1, changed: null };
    const d = decidePin(pinned, K2);
    expect(d).toEqual({ state: pinned, verifyWith: K1, offered: K2, pinnedFromLink: false });
  });

  it('[A2] replacing the pinned key records from which key, to which, and when', () => {
    const s = replacePin({ key: K1, changed: null }, K2, 1_700_000_000_000);
    expect(s).toEqual({ key: K2, changed: { from: K1, to: K2, at: 1_700_000_000_000 } });
    expect(replacePin(s, K2, 5)).toBe(s);
    expect(replacePin(empty, K1, 5)).toEqual({ key: K1, changed: null });
    expect(needsConfirmation({ key: K1, changed: null }, K2)).toBe(true);
    expect(needsConfirmation({ key: K1, changed: null }, K1)).toBe(false);
    expect(needsConfirmation(empty, K2)).toBe(false);
  });

  it('[A2] survives a round trip through storage and a damaged record', () => {
    const m = new Map<string, string>();
    const store = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    const s: PinState = { key: K2, changed: { from: K1, to: K2, at: 7 } };
    savePin(store, s);
    expect(loadPin(store)).toEqual(s);
    m.set('attune:log-verifier-key-changed', '{not json');
    expect(loadPin(store)).toEqual({ key: K2, changed: null });
    savePin(store, empty);
    expect(m.size).toBe(0);
  });
});
