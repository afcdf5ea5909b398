/**
 * A client child process for bench/churn.ts: opens `connections` WebSockets, `concurrency` at a
 * time, sends each `frames` hostile frames, then drops it (half with a close handshake, half by
 * resetting the TCP connection). Reports progress to the parent every 1,000 connections.
 *
 * Each connection claims its own client address in `X-Forwarded-For` (the attune server trusts
 * one proxy hop in this bench), drawn from `addresses` distinct ones, so the per-address state
 * (the join-guessing throttle) sees as many clients as a public server would.
 *
 *   args: url code connections concurrency frames seed addresses
 *   child → { done, frames, failed } … { finished: true, done, frames, failed }
 */
import WebSocket from 'ws';

const [url, code, connArg, concArg, framesArg, seedArg, addrArg] = process.argv.slice(2);
const addresses = Math.max(1, Number(addrArg ?? '1'));
const connections = Number(connArg);
const concurrency = Number(concArg);
const framesPer = Number(framesArg);
const seed = Number(seedArg ?? '1');
const send = (m: unknown) => process.send?.(m);

const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
const oversized = JSON.stringify({ t: 'input', seq: 1, text: 'x'.repeat(5000) });
const padded = JSON.stringify({ t: 'input', seq: 3, valence: 0, arousal: 0, pad: 'y'.repeat(3000) });

/** Frame `k` of connection `i`: every kind of thing a hostile or broken client sends. */
function hostile(i: number, k: number): { data: string | Buffer; binary: boolean } {
  const last = k === framesPer - 1;
  if (last && i % 3 === 1) return { data: oversized, binary: false }; // closes with 1009
  if (last && i % 3 === 2) return { data: invalidUtf8, binary: false }; // closes with 1007
  switch (k % 9) {
    case 0:
      return { data: '{', binary: false };
    case 1:
      return { data: '[1,2,3]', binary: false };
    case 2:
      return { data: JSON.stringify({ t: `nope${i}` }), binary: false };
    case 3:
      return { data: '{"t":"input","seq":1,"valence":1e999,"arousal":0}', binary: false };
    case 4:
      return { data: Buffer.from([1, 2, 3, 4]), binary: true };
    case 5:
      // One in ten joins for real as a display (a session to set up and tear down); the rest
      // guess a code (the join-guessing throttle's maps must stay bounded).
      return i % 10 === 0 ? { data: JSON.stringify({ t: 'join', code, role: 'display' }), binary: false } : { data: JSON.stringify({ t: 'join', code: `Q${(seed * 1_000_003 + i).toString(36).toUpperCase().slice(-7).padStart(7, 'Z')}`, consent: true }), binary: false };
    case 6:
      return { data: '{"t":"input","seq":2,"valence":0,"arousal":0}', binary: false };
    case 7:
      return { data: padded, binary: false };
    default:
      return { data: JSON.stringify({ t: 'resume', token: `t${i}`.padEnd(12, 'x') }), binary: false };
  }
}

let started = 0;
let done = 0;
let frames = 0;
let failed = 0;

function one(i: number): Promise<void> {
  return new Promise((resolve) => {
    const a = (seed * 7919 + i) % addresses;
    const ws = new WebSocket(url as string, { perMessageDeflate: false, headers: { 'x-forwarded-for': `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}` } });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done++;
      if (done % 1000 === 0) send({ done, frames, failed });
      resolve();
    };
    ws.on('error', () => {
      failed++;
      finish();
    });
    ws.on('close', finish);
    ws.on('open', () => {
      for (let k = 0; k < framesPer; k++) {
        const f = hostile(i, k);
        ws.send(f.data, { binary: f.binary });
        frames++;
      }
      // Give the server the frames, then drop: half say goodbye, half vanish.
      setImmediate(() => (i % 2 === 0 ? ws.close(1000) : ws.terminate()));
    });
  });
}

async function worker(): Promise<void> {
  while (started < connections) {
    const i = started++;
    await one(i);
  }
}

await Promise.all(Array.from({ length: Math.min(concurrency, connections) }, worker));
send({ finished: true, done, frames, failed });
process.exit(0);
