/**
 * A real OSC receiver for the tests: Debian's `oscdump` (liblo-tools) on a free UDP port of
 * 127.0.0.1, started once its socket is bound. One place, so every OSC test listens alike.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { expect } from 'vitest';

/** Whether `oscdump` is installed (tests that need it are skipped otherwise). */
export const hasOscdump = spawnSync('sh', ['-c', 'command -v oscdump']).status === 0;

/** A running oscdump. */
export interface Oscdump {
  readonly port: number;
  /** Everything it printed so far (one line per message: `[timetag ]address types args`). */
  output(): string;
  stop(): void;
}

/** A UDP port that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Starts `oscdump -L PORT` (`-L`: line-buffered, needed when its output is a pipe) and resolves
 * once its socket is bound — it prints nothing until it receives, so `ss` is asked.
 */
export async function startOscdump(): Promise<Oscdump> {
  const port = await freeUdpPort();
  const child: ChildProcess = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  await expect.poll(() => spawnSync('sh', ['-c', `ss -lunH 'sport = :${port}'`]).stdout.toString().length > 0, { timeout: 5000 }).toBe(true);
  return { port, output: () => out, stop: () => child.kill() };
}
