/**
 * "Connect a heart-rate strap" on the join page (docs/heart.md): its own consent line, the
 * browser's Bluetooth chooser, then the strap's state in plain words — connected, battery,
 * learning your usual, contact lost, disconnected and reconnecting — and which axis comes from
 * where: energy from the heart, pleasantness from the person's own last tap or sentence.
 *
 * The beats stay here: frames are parsed and reduced on the phone by the same pure pipeline
 * the simulator runs (src/analyze/heart/heartSession.ts); only its input — the derived point and
 * the period's mean heart rate — goes to `send`, at most one every 2 s. "Stop sharing" drops
 * the strap and the session at once; nothing more is sent.
 *
 * ```
 *   checking ─► unsupported            (no Web Bluetooth, not https, no adapter)
 *      └──────► idle ─connect─► choosing ─► connecting ─► live ◄────────┐
 *                 ▲                 │            │          │ link lost  │ connect ok
 *                 │                 └── failed ◄─┘          ▼            │
 *                 └──────────── stop (from any state) ◄── reconnecting ──┘ (1 s, 2 s … 30 s)
 * ```
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { parseHeartRateMeasurement } from '../../../src/analyze/heart/heartRateMeasurement.ts';
import { type HeartInput, type HeartReading, HeartSession } from '../../../src/analyze/heart/heartSession.ts';
import { type HeartDevice, type HeartSupport, heartSupport, requestHeartDevice } from './heartDevice.ts';
import { html } from './ui.ts';

/** Where the strap is (see the diagram above). */
type Phase =
  | { readonly kind: 'checking' }
  | { readonly kind: 'unsupported'; readonly reason: Exclude<HeartSupport, { ok: true }>['reason'] }
  | { readonly kind: 'idle'; readonly note?: string }
  | { readonly kind: 'choosing' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'live' }
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly inMs: number }
  | { readonly kind: 'failed'; readonly message: string };

/** Props of the panel. */
export interface HeartPanelProps {
  /** Sends one heart input (the page's socket). */
  readonly send: (input: HeartInput) => void;
  /** The person's own last valence (tap or sentence) and when; null until they give one. */
  readonly said: { readonly valence: number; readonly at: number } | null;
  /** Heart inputs the server has acknowledged so far. */
  readonly acked: number;
}

const UNSUPPORTED: Record<Exclude<HeartSupport, { ok: true }>['reason'], string> = {
  'no-web-bluetooth': 'This browser cannot talk to Bluetooth devices. Chrome or Edge on Android or on a computer can; on an iPhone or in Firefox, keep using the grid — it works just the same.',
  insecure: 'Heart-rate straps need a secure (https) connection to this page. Ask the organiser for the https link; the grid works as before.',
  'no-adapter': 'This device has no Bluetooth turned on. Switch Bluetooth on and reload, or keep using the grid.',
};

const backoff = (attempt: number): number => Math.min(30_000, 1_000 * 2 ** Math.max(0, attempt - 1));
const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

/** Words for a failed connection (the chooser's cancel is not a failure). */
function explain(e: unknown): string | null {
  const err = e as { name?: string; message?: string };
  if (err?.name === 'NotFoundError') return null; // the person closed the chooser
  if (err?.name === 'SecurityError') return 'The browser refused Bluetooth here (it needs https and a tap).';
  if (err?.name === 'NetworkError') return 'The strap did not answer. Wear it (moisten the electrodes), bring the phone closer and try again.';
  return err?.message ? `Could not connect: ${err.message}` : 'Could not connect to the strap.';
}

/** The heart-rate strap panel (module header). */
export function HeartPanel({ send, said, acked }: HeartPanelProps) {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  const [reading, setReading] = useState<HeartReading | null>(null);
  const [battery, setBattery] = useState<number | null>(null);
  const device = useRef<HeartDevice | null>(null);
  const session = useRef<HeartSession | null>(null);
  const retry = useRef<ReturnType<typeof setTimeout> | null>(null);
  const sendRef = useRef(send);
  sendRef.current = send;

  useEffect(() => {
    let live = true;
    void heartSupport().then((s) => {
      if (live) setPhase(s.ok ? { kind: 'idle' } : { kind: 'unsupported', reason: s.reason });
    });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (said) session.current?.said(said.valence, said.at);
  }, [said]);

  // One reading every 500 ms while a session exists; it decides whether an input is due.
  useEffect(() => {
    const id = setInterval(() => {
      const s = session.current;
      if (!s) return;
      const { reading: r, input } = s.tick(Date.now());
      setReading(r);
      if (input) sendRef.current(input);
    }, 500);
    return () => clearInterval(id);
  }, []);

  const stop = (note?: string): void => {
    if (retry.current) clearTimeout(retry.current);
    retry.current = null;
    device.current?.disconnect();
    device.current = null;
    session.current = null;
    setReading(null);
    setBattery(null);
    setPhase({ kind: 'idle', ...(note ? { note } : {}) });
  };
  useEffect(() => () => stop(), []);

  const reconnect = (attempt: number): void => {
    const inMs = backoff(attempt);
    setPhase({ kind: 'reconnecting', attempt, inMs });
    retry.current = setTimeout(() => {
      const d = device.current;
      if (!d) return;
      d.connect().then(
        () => setPhase({ kind: 'live' }),
        () => {
          if (device.current === d) reconnect(attempt + 1);
        },
      );
    }, inMs);
  };

  const connect = async (): Promise<void> => {
    setPhase({ kind: 'choosing' });
    let d: HeartDevice;
    try {
      d = await requestHeartDevice();
    } catch (e) {
      const why = explain(e);
      setPhase(why ? { kind: 'failed', message: why } : { kind: 'idle' });
      return;
    }
    setPhase({ kind: 'connecting' });
    const s = new HeartSession();
    if (said) s.said(said.valence, said.at);
    d.on('measurement', (v) => {
      const m = parseHeartRateMeasurement(v);
      if (m.ok && device.current === d) s.frame(m.value, Date.now());
    });
    d.on('battery', (pct) => setBattery(pct));
    d.on('disconnected', () => {
      if (device.current !== d) return;
      s.disconnected();
      reconnect(1);
    });
    device.current = d;
    session.current = s;
    try {
      await d.connect();
      setPhase({ kind: 'live' });
    } catch (e) {
      if (device.current === d) {
        device.current = null;
        session.current = null;
        setPhase({ kind: 'failed', message: explain(e) ?? 'Could not connect to the strap.' });
      }
    }
  };

  if (phase.kind === 'checking') return null;
  if (phase.kind === 'unsupported') {
    return html`<div class="card" data-testid="heart"><p class="muted" data-testid="heart-unsupported" style="margin:0">${UNSUPPORTED[phase.reason]}</p></div>`;
  }
  if (phase.kind === 'idle' || phase.kind === 'failed' || phase.kind === 'choosing') {
    return html`<div class="card" data-testid="heart">
      <h2 style="margin-top:0">Connect a heart-rate strap (optional)</h2>
      <p class="muted" data-testid="heart-consent">
        Your phone reads your heart rate and the time between beats from a chest strap or watch, over Bluetooth. <strong>The beats stay on this phone.</strong>
        It works out how energised you are compared with your own usual, and sends only that point — with your own tap for how pleasant — and your average heart rate every 2 seconds, so the room can see how in step its hearts are. You can stop at any time.
      </p>
      ${phase.kind === 'failed' ? html`<p class="error" data-testid="heart-error">${phase.message}</p>` : null}
      ${phase.kind === 'idle' && phase.note ? html`<p class="status" data-testid="heart-note">${phase.note}</p>` : null}
      <button class="secondary" disabled=${phase.kind === 'choosing'} onClick=${() => void connect()} data-testid="heart-connect">
        ${phase.kind === 'choosing' ? 'Choose your strap…' : 'Connect a heart-rate strap'}
      </button>
    </div>`;
  }

  const name = device.current?.name ?? 'Strap';
  let status: string;
  if (phase.kind === 'connecting') status = `Connecting to ${name}…`;
  else if (phase.kind === 'reconnecting') status = `${name} disconnected — reconnecting (attempt ${phase.attempt}, in ${Math.round(phase.inMs / 1000)} s)…`;
  else if (!reading || reading.status === 'waiting') status = `${name} connected — waiting for your heartbeat…`;
  else if (reading.status === 'no-contact') status = 'The strap cannot feel your skin — moisten the electrodes or tighten it. Nothing is sent meanwhile.';
  else if (reading.status === 'stale') status = `${name} has gone quiet — bring the phone closer. Nothing is sent meanwhile.`;
  else if (reading.status === 'baseline') status = `Learning your usual — ${Math.round(reading.baselineFill * 100)} %`;
  else status = said ? `Sharing — ${acked} reading${acked === 1 ? '' : 's'} received by the room` : 'Ready — tap the grid once to say how pleasant it feels, and your heart will set the energy.';
  const a = reading?.arousal;
  const cls = phase.kind === 'live' ? 'live' : 'reconnecting';
  return html`<div class="card" data-testid="heart">
    <div class="row" style="justify-content: space-between">
      <h2 style="margin:0">Heart-rate strap</h2>
      ${battery !== null ? html`<span class=${battery < 15 ? 'error' : 'muted'} data-testid="heart-battery">${battery < 15 ? `battery low — ${battery} %` : `battery ${battery} %`}</span>` : null}
    </div>
    <p class=${`status ${cls}`} aria-live="polite" data-testid="heart-status">${status}</p>
    ${
      reading?.bpm != null && phase.kind === 'live'
        ? html`<p class="muted" data-testid="heart-bpm" style="margin:4px 0">${Math.round(reading.bpm)} bpm${reading.rmssdMs != null ? ` · variability ${Math.round(reading.rmssdMs)} ms` : ''}</p>`
        : null
    }
    <p style="margin:4px 0" data-testid="heart-energy">Energy — <strong>from your heart</strong>: ${a ? `${signed(a.arousal)} (confidence ${Math.round(a.confidence * 100)} %)` : 'not yet'}</p>
    <p style="margin:4px 0" data-testid="heart-pleasant">Pleasantness — <strong>from your ${said ? 'own tap or words' : 'tap'}</strong>: ${said ? signed(said.valence) : 'not said yet — tap the grid'}</p>
    <button class="secondary" onClick=${() => stop('Stopped. Nothing more from your heart is sent.')} data-testid="heart-stop">Stop sharing my heart</button>
  </div>`;
}
