/**
 * Captured streams for running an `attune` command in process: what it wrote to stdout and
 * stderr, and an abort to stop long-running commands.
 */
import { PassThrough, Readable } from 'node:stream';
import type { CliIO } from '../../src/cli/command.ts';

/** A CliIO whose output is collected. */
export interface CapturedIO {
  readonly io: CliIO;
  out(): string;
  err(): string;
  abort(): void;
}

/** Builds captured streams; `stdin` defaults to empty. */
export function captureIO(options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: Readable } = {}): CapturedIO {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => out.push(String(d)));
  stderr.on('data', (d) => err.push(String(d)));
  const controller = new AbortController();
  return {
    io: { stdin: options.stdin ?? Readable.from([]), stdout, stderr, env: { ...(options.env ?? {}) }, cwd: options.cwd ?? process.cwd(), signal: controller.signal },
    out: () => out.join(''),
    err: () => err.join(''),
    abort: () => controller.abort(),
  };
}
