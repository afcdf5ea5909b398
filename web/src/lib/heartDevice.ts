/**
 * A heart-rate strap as the join page sees it: the smallest interface (connect, disconnect,
 * measurement frames, battery level, a disconnection event), and its one real implementation
 * over Web Bluetooth — the standard Heart Rate service (0x180D), its Heart Rate Measurement
 * characteristic (0x2A37, notifications) and, when the strap has it, the Battery service
 * (0x180F, Battery Level 0x2A19).
 *
 * Web Bluetooth exists in Chrome and Edge (Android, desktop) and only in a secure context
 * (https, or http://localhost); Safari on iOS and Firefox have none. {@link heartSupport} says
 * which, in words a participant can act on.
 *
 * Only the Web Bluetooth shapes this file uses are declared below (TypeScript's DOM library
 * has none), structurally, so any conforming browser object satisfies them.
 */
import { BATTERY_LEVEL, BATTERY_SERVICE, HEART_RATE_MEASUREMENT, HEART_RATE_SERVICE } from '../../../src/analyze/heart/heartRateMeasurement.ts';

interface GattCharacteristic extends EventTarget {
  readonly value?: DataView | null;
  startNotifications(): Promise<GattCharacteristic>;
  stopNotifications(): Promise<GattCharacteristic>;
  readValue(): Promise<DataView>;
}
interface GattService {
  getCharacteristic(uuid: number | string): Promise<GattCharacteristic>;
}
interface GattServer {
  readonly connected: boolean;
  connect(): Promise<GattServer>;
  disconnect(): void;
  getPrimaryService(uuid: number | string): Promise<GattService>;
}
interface BluetoothDeviceLike extends EventTarget {
  readonly name?: string;
  readonly gatt?: GattServer;
}
interface BluetoothLike {
  getAvailability?(): Promise<boolean>;
  requestDevice(o: { filters: { services: (number | string)[] }[]; optionalServices?: (number | string)[] }): Promise<BluetoothDeviceLike>;
}

/** What the strap reports. */
export interface HeartDeviceEvents {
  /** One Heart Rate Measurement value (the raw bytes; parse with parseHeartRateMeasurement). */
  measurement(value: DataView): void;
  /** Battery level, percent. */
  battery(percent: number): void;
  /** The link dropped (out of range, strap off, switched off). */
  disconnected(): void;
}

/** A connected (or reconnectable) strap. */
export interface HeartDevice {
  readonly name: string;
  /** Connects (again) and subscribes to measurements; rejects with a readable Error. */
  connect(): Promise<void>;
  /** Unsubscribes and drops the link; no event follows. */
  disconnect(): void;
  on<K extends keyof HeartDeviceEvents>(event: K, f: HeartDeviceEvents[K]): void;
}

/** Whether this browser can read a strap, and if not, why (for the participant). */
export type HeartSupport = { readonly ok: true } | { readonly ok: false; readonly reason: 'no-web-bluetooth' | 'insecure' | 'no-adapter' };

function bluetooth(): BluetoothLike | undefined {
  return (navigator as Navigator & { bluetooth?: BluetoothLike }).bluetooth;
}

/** Checks for Web Bluetooth in a secure context with a Bluetooth adapter present. */
export async function heartSupport(): Promise<HeartSupport> {
  if (!window.isSecureContext) return { ok: false, reason: 'insecure' };
  const bt = bluetooth();
  if (!bt) return { ok: false, reason: 'no-web-bluetooth' };
  try {
    if (bt.getAvailability && !(await bt.getAvailability())) return { ok: false, reason: 'no-adapter' };
  } catch {
    // Some browsers throw instead of answering; requestDevice will say more.
  }
  return { ok: true };
}

/** Asks the browser's chooser for a heart-rate strap (must run inside a tap or click). */
export async function requestHeartDevice(): Promise<HeartDevice> {
  const bt = bluetooth();
  if (!bt) throw new Error('This browser has no Web Bluetooth.');
  const device = await bt.requestDevice({ filters: [{ services: [HEART_RATE_SERVICE] }], optionalServices: [BATTERY_SERVICE] });
  return new WebBluetoothHeartDevice(device);
}

type Handlers = { [K in keyof HeartDeviceEvents]: HeartDeviceEvents[K][] };

/** A strap over Web Bluetooth. */
class WebBluetoothHeartDevice implements HeartDevice {
  readonly name: string;
  readonly #device: BluetoothDeviceLike;
  readonly #h: Handlers = { measurement: [], battery: [], disconnected: [] };
  #hr: GattCharacteristic | null = null;
  #leaving = false;

  constructor(device: BluetoothDeviceLike) {
    this.#device = device;
    this.name = device.name || 'Heart-rate strap';
    device.addEventListener('gattserverdisconnected', () => {
      this.#hr = null;
      if (!this.#leaving) for (const f of this.#h.disconnected) f();
    });
  }

  on<K extends keyof HeartDeviceEvents>(event: K, f: HeartDeviceEvents[K]): void {
    this.#h[event].push(f);
  }

  readonly #onValue = (e: Event): void => {
    const v = (e.target as GattCharacteristic).value;
    if (v) for (const f of this.#h.measurement) f(v);
  };

  async connect(): Promise<void> {
    const gatt = this.#device.gatt;
    if (!gatt) throw new Error('This device offers no Bluetooth services.');
    this.#leaving = false;
    const server = await gatt.connect();
    const service = await server.getPrimaryService(HEART_RATE_SERVICE);
    const hr = await service.getCharacteristic(HEART_RATE_MEASUREMENT);
    hr.removeEventListener('characteristicvaluechanged', this.#onValue);
    hr.addEventListener('characteristicvaluechanged', this.#onValue);
    await hr.startNotifications();
    this.#hr = hr;
    void this.#readBattery(server);
  }

  async #readBattery(server: GattServer): Promise<void> {
    try {
      const level = await (await server.getPrimaryService(BATTERY_SERVICE)).getCharacteristic(BATTERY_LEVEL);
      const v = await level.readValue();
      if (v.byteLength >= 1) for (const f of this.#h.battery) f(Math.min(100, v.getUint8(0)));
    } catch {
      // Many straps have no battery service; that is not an error worth showing.
    }
  }

  disconnect(): void {
    this.#leaving = true;
    const hr = this.#hr;
    this.#hr = null;
    hr?.removeEventListener('characteristicvaluechanged', this.#onValue);
    if (hr && this.#device.gatt?.connected) void hr.stopNotifications().catch(() => undefined);
    this.#device.gatt?.disconnect();
  }
}
