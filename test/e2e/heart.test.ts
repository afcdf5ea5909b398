/**
 * The join page's heart-rate strap in a real headless Chromium, against a real server, with a
 * simulated Bluetooth peripheral from Chromium's own DevTools Bluetooth emulation
 * (`BluetoothEmulation.*`, a browser-level CDP domain here: on a page session Chromium 156
 * answers "'BluetoothEmulation.enable' wasn't found") and the device chooser answered through
 * `DeviceAccess.*`. Web Bluetooth is off by default on Linux Chromium, hence
 * `--enable-experimental-web-platform-features`.
 *
 * What the emulation cannot do: push a notification. The domain has no command that sends a
 * characteristic value to a subscriber (its commands answer reads, writes and subscriptions), so
 * the emulated 0x2A37 is also readable and the test makes each frame arrive by reading it —
 * Web Bluetooth fires `characteristicvaluechanged` on the same characteristic object after a
 * read as after a notification, so the page's own listener receives the bytes through
 * Chromium's Bluetooth stack exactly as from a strap. The page itself only subscribes; it never
 * reads 0x2A37.
 *
 * The page's clock is Playwright's fake clock (installed before the page loads, left running so
 * the page's own zero-delay timers fire): each second of strap time is one `clock.runFor(1000)`,
 * so a minute of baseline and sharing takes a few seconds of wall time.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { encodeHeartRateMeasurement, rrUnitsOfMs, type SensorContact } from '../../src/analyze/heart/heartRateMeasurement.ts';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';

const uuid = (short: number) => `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
const ADDRESS = '0A:11:22:33:44:55';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', minCohort: 1 });
  browser = await launchChromium(['--enable-experimental-web-platform-features']);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function newSpace(name: string): Promise<string> {
  const r = await fetch(`${server.url}/api/spaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  return ((await r.json()) as { code: string }).code;
}

/**
 * A heart-rate strap emulated by Chromium: Heart Rate service (0x2A37 + its CCCD 0x2902) and
 * Battery service (0x2A19 reads 76 %). Chromium forgets an emulated peripheral's services on
 * `simulateGATTDisconnection` (re-discovery finds none: "No Services matching UUID … found in
 * Device"), so a disconnection adds them again, as a strap coming back would offer them.
 */
class EmulatedStrap {
  readonly ops: string[] = [];
  readonly cdp: CDPSession;
  holdConnections = false;
  readonly #hr = new Set<string>();
  readonly #battery = new Set<string>();
  readonly #descriptors = new Set<string>();
  /** Frames waiting to be read, oldest first. */
  readonly #frames: Uint8Array[] = [];
  #hold: (() => void) | null = null;

  constructor(cdp: CDPSession) {
    this.cdp = cdp;
  }

  static async create(browser: Browser): Promise<EmulatedStrap> {
    const cdp = await browser.newBrowserCDPSession();
    await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
    await cdp.send('BluetoothEmulation.simulatePreconnectedPeripheral', { address: ADDRESS, name: 'Test strap', manufacturerData: [], knownServiceUuids: [uuid(0x180d), uuid(0x180f)] });
    const strap = new EmulatedStrap(cdp);
    await strap.#addServices();
    cdp.on('BluetoothEmulation.gattOperationReceived', (e) => {
      strap.ops.push(`gatt:${e.type}`);
      const answer = () => void cdp.send('BluetoothEmulation.simulateGATTOperationResponse', { address: ADDRESS, type: e.type, code: 0 });
      if (e.type === 'connection' && strap.holdConnections) strap.#hold = answer;
      else answer();
    });
    cdp.on('BluetoothEmulation.descriptorOperationReceived', (e) => {
      void cdp.send('BluetoothEmulation.simulateDescriptorOperationResponse', { descriptorId: e.descriptorId, type: e.type, code: 0, ...(e.type === 'read' ? { data: Buffer.from([1, 0]).toString('base64') } : {}) });
    });
    cdp.on('BluetoothEmulation.characteristicOperationReceived', (e) => {
      const battery = strap.#battery.has(e.characteristicId);
      strap.ops.push(`${battery ? 'battery' : 'hr'}:${e.type}`);
      if (e.type !== 'read') {
        void cdp.send('BluetoothEmulation.simulateCharacteristicOperationResponse', { characteristicId: e.characteristicId, type: e.type, code: 0 });
        return;
      }
      const data = battery ? Uint8Array.from([76]) : strap.#frames.shift();
      // 0x0E: "unlikely error" (Core Vol 3 Part F 3.4.1.1) when a read comes with no frame queued.
      void cdp.send('BluetoothEmulation.simulateCharacteristicOperationResponse', { characteristicId: e.characteristicId, type: 'read', code: data ? 0 : 0x0e, ...(data ? { data: Buffer.from(data).toString('base64') } : {}) });
    });
    return strap;
  }

  async #addServices(): Promise<void> {
    const cdp = this.cdp;
    const { serviceId } = await cdp.send('BluetoothEmulation.addService', { address: ADDRESS, serviceUuid: uuid(0x180d) });
    // Real straps: notify only. `read` lets the test make a frame arrive (module header).
    const { characteristicId: hr } = await cdp.send('BluetoothEmulation.addCharacteristic', { serviceId, characteristicUuid: uuid(0x2a37), properties: { notify: true, read: true } });
    const { descriptorId } = await cdp.send('BluetoothEmulation.addDescriptor', { characteristicId: hr, descriptorUuid: uuid(0x2902) });
    const { serviceId: bs } = await cdp.send('BluetoothEmulation.addService', { address: ADDRESS, serviceUuid: uuid(0x180f) });
    const { characteristicId: battery } = await cdp.send('BluetoothEmulation.addCharacteristic', { serviceId: bs, characteristicUuid: uuid(0x2a19), properties: { read: true } });
    this.#hr.add(hr);
    this.#battery.add(battery);
    this.#descriptors.add(descriptorId);
  }

  /** Answers the connection request that `holdConnections` kept waiting. */
  release(): void {
    this.#hold?.();
    this.#hold = null;
  }

  /** Delivers one Heart Rate Measurement to the page's subscription (module header). */
  async notify(page: Page, frame: Uint8Array): Promise<void> {
    this.#frames.push(frame);
    await page.evaluate(async (svc) => {
      const bt = (navigator as unknown as { bluetooth: { getDevices(): Promise<{ gatt: { getPrimaryService(u: number): Promise<{ getCharacteristic(u: number): Promise<{ readValue(): Promise<DataView> }> }> } }[]> } }).bluetooth;
      const [d] = await bt.getDevices();
      if (!d) throw new Error('no device permitted');
      await (await (await d.gatt.getPrimaryService(svc)).getCharacteristic(0x2a37)).readValue();
    }, 0x180d);
  }

  /** The link drops (out of range); the strap then offers its services again. */
  async disconnect(): Promise<void> {
    await this.cdp.send('BluetoothEmulation.simulateGATTDisconnection', { address: ADDRESS });
    await this.#addServices();
  }

  async close(): Promise<void> {
    await this.cdp.send('BluetoothEmulation.disable').catch(() => undefined);
    await this.cdp.detach().catch(() => undefined);
  }
}

/** One second of a strap at `bpm` with RR alternating around it (variability ≈ 30 ms). */
function frameAt(second: number, bpm: number, contact: SensorContact = 'detected'): Uint8Array {
  if (contact === 'lost') return encodeHeartRateMeasurement({ bpm: 0, contact });
  const rr = 60_000 / bpm + (second % 2 === 0 ? 15 : -15);
  return encodeHeartRateMeasurement({ bpm, contact, rrRaw: [rrUnitsOfMs(rr)] });
}

async function phone(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}

const text = (page: Page, id: string) => page.getByTestId(id).textContent();

describe('a heart-rate strap on the join page (Chromium, emulated Bluetooth peripheral)', () => {
  it('[HR-E2E1] consent line, chooser, battery, baseline, sharing only derived points, disconnect and reconnect, contact lost, stop', async () => {
    const code = await newSpace('Heart test');
    const strap = await EmulatedStrap.create(browser);
    const ctx = await browser.newContext({ viewport: { width: 360, height: 900 }, hasTouch: true, isMobile: true });
    const page = await phone(ctx);
    const chooser = await ctx.newCDPSession(page);
    await chooser.send('DeviceAccess.enable');
    let chosen = false;
    chooser.on('DeviceAccess.deviceRequestPrompted', (e) => {
      const d = e.devices.find((x) => x.id === ADDRESS);
      if (d && !chosen) {
        chosen = true;
        void chooser.send('DeviceAccess.selectPrompt', { id: e.id, deviceId: d.id });
      }
    });
    const sent: Record<string, unknown>[] = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => {
      const m = JSON.parse(String(f.payload)) as Record<string, unknown>;
      if (m.t === 'input' && m.source === 'heart') sent.push(m);
    }));
    try {
      // The pages run under a strict CSP (H12): the heart panel must not trip it either.
      await page.addInitScript(() => {
        const w = window as unknown as { cspViolations: string[] };
        w.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const t0 = new Date('2026-12-01T10:00:00Z');
      await page.clock.install({ time: t0 });
      const res = await page.goto(`${server.url}/j/${code}`);
      expect(res?.headers()['content-security-policy']).toMatch(/style-src/);
      // Nothing about hearts before consent.
      await expect.poll(() => page.getByTestId('consent').isVisible()).toBe(true);
      expect(await page.getByTestId('heart').count()).toBe(0);
      await page.getByTestId('consent-yes').click();
      await expect.poll(() => page.getByTestId('heart-consent').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await text(page, 'heart-consent')).toMatch(/beats stay on this phone/);

      // The person says how pleasant (a tap at the pleasant, energised corner).
      const box = await page.getByTestId('grid').boundingBox();
      if (!box) throw new Error('grid not visible');
      await page.touchscreen.tap(box.x + box.width * 0.85, box.y + box.height * 0.15);
      await expect.poll(() => text(page, 'note'), { timeout: 10_000 }).toBe('Saved.');

      await page.getByTestId('heart-connect').click();
      await expect.poll(() => text(page, 'heart-status'), { timeout: 10_000 }).toMatch(/Test strap connected — waiting for your heartbeat/);
      expect(strap.ops).toContain('gatt:connection');
      expect(strap.ops).toContain('hr:subscribe-to-notifications');
      expect(strap.ops).not.toContain('hr:read'); // the page subscribes; it never reads 0x2A37
      await expect.poll(() => text(page, 'heart-battery')).toBe('battery 76 %');

      // 40 s of resting heart: the baseline fills past its 30 s minimum; then points are shared.
      let second = 0;
      const beat = async (n: number, bpm: number, contact: SensorContact = 'detected') => {
        for (let i = 0; i < n; i++, second++) {
          await strap.notify(page, frameAt(second, bpm, contact));
          await page.clock.runFor(1_000);
        }
      };
      await beat(10, 64);
      expect(await text(page, 'heart-status')).toMatch(/^Learning your usual — \d+ %$/);
      expect(await text(page, 'heart-bpm')).toMatch(/^64 bpm/);
      expect(sent).toEqual([]);
      await beat(30, 64);
      await beat(16, 96); // excited: a faster heart
      await expect.poll(() => text(page, 'heart-status'), { timeout: 10_000 }).toMatch(/^Sharing — [1-9]\d* readings? received by the room$/);
      expect(await text(page, 'heart-energy')).toMatch(/from your heart: \+0\.\d\d \(confidence \d+ %\)/);
      expect(await text(page, 'heart-pleasant')).toMatch(/from your own tap or words: \+0\.7\d/);
      // On the wire: only the derived point and the period's mean heart rate, at most one per 2 s.
      expect(sent.length).toBeGreaterThanOrEqual(3);
      expect(sent.length).toBeLessThanOrEqual(Math.ceil((second - 30) / 2) + 1);
      for (const m of sent) {
        expect(Object.keys(m).sort()).toEqual(['arousal', 'confidence', 'heart', 'seen', 'seq', 'source', 't', 'valence']);
        expect(Object.keys(m.heart as object)).toEqual(['bpm']);
        expect(m.valence).toBeCloseTo(0.7, 1);
      }
      const last = sent.at(-1) as { arousal: number; heart: { bpm: number } };
      expect(last.arousal).toBeGreaterThan(0.3);
      expect(last.heart.bpm).toBeCloseTo(96, 0);
      // The server counts the heart's point as this person's.
      await expect.poll(async () => ((await (await fetch(`${server.url}/api/spaces/${code}/pulse`)).json()) as { mean: { arousal: number } | null }).mean?.arousal ?? 0, { timeout: 10_000 }).toBeGreaterThan(0.3);

      // The strap drops out: shown, and the page reconnects on its own (1 s back-off).
      strap.holdConnections = true;
      await strap.disconnect();
      await expect.poll(() => text(page, 'heart-status'), { timeout: 10_000 }).toBe('Test strap disconnected — reconnecting (attempt 1, in 1 s)…');
      await page.clock.runFor(1_000);
      await expect.poll(() => strap.ops.filter((o) => o === 'gatt:connection').length, { timeout: 10_000 }).toBe(2);
      strap.release();
      await expect.poll(() => text(page, 'heart-status'), { timeout: 10_000 }).not.toMatch(/reconnecting/);
      const beforeReconnect = sent.length;
      await beat(4, 90);
      await expect.poll(() => text(page, 'heart-status'), { timeout: 10_000 }).toMatch(/^Sharing/);
      expect(sent.length).toBeGreaterThan(beforeReconnect);

      // Contact lost: said plainly, and nothing is sent meanwhile.
      await beat(3, 0, 'lost');
      expect(await text(page, 'heart-status')).toMatch(/cannot feel your skin/);
      const before = sent.length;
      await beat(4, 0, 'lost');
      expect(sent.length).toBe(before);

      // Stop sharing: the strap is let go and nothing more is sent.
      await page.getByTestId('heart-stop').click();
      await expect.poll(() => text(page, 'heart-note')).toBe('Stopped. Nothing more from your heart is sent.');
      await page.clock.runFor(10_000);
      expect(sent.length).toBe(before);
      expect(await page.getByTestId('heart-connect').isVisible()).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    } finally {
      await ctx.close();
      await strap.close();
    }
  }, 120_000);

  it('[HR-E2E2] without Web Bluetooth, or without https, the page says so and the grid works as before', async () => {
    const code = await newSpace('No Bluetooth');
    const plain = await launchChromium([`--host-resolver-rules=MAP attune.test 127.0.0.1`]);
    try {
      const page = await phone(await plain.newContext({ viewport: { width: 360, height: 900 } }));
      await page.goto(`${server.url}/j/${code}`);
      await page.getByTestId('consent-yes').click();
      await expect.poll(() => text(page, 'heart-unsupported'), { timeout: 10_000 }).toMatch(/cannot talk to Bluetooth devices.*keep using the grid/);
      await page.getByTestId('grid').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => text(page, 'note'), { timeout: 10_000 }).toBe('Saved.');

      // Plain http to a name that is not localhost is not a secure context: no Web Bluetooth there.
      const insecure = await phone(await plain.newContext({ viewport: { width: 360, height: 900 } }));
      await insecure.goto(`${server.url.replace('127.0.0.1', 'attune.test')}/j/${code}`);
      expect(await insecure.evaluate(() => window.isSecureContext)).toBe(false);
      await insecure.getByTestId('consent-yes').click();
      await expect.poll(() => text(insecure, 'heart-unsupported'), { timeout: 10_000 }).toMatch(/secure \(https\) connection/);
    } finally {
      await plain.close();
    }
  }, 60_000);
});
