/**
 * `attune serve`'s default Node flags and environment (src/cli/nodeFlags.ts; which it adds and
 * when: src/cli/nodeFlags.test.ts): a real `bin/attune.js serve` process runs with them — or with
 * the operator's own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../src/cli/nodeFlags.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'attune.js');
let child: ChildProcess | null = null;
afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
});

/** Starts `bin/attune.js serve` and resolves with the command line its process runs with once it listens (Linux: /proc). */
function servedCommandLine(env: NodeJS.ProcessEnv): Promise<string[]> {
  return served(env).then((p) => p.argv);
}

/** The same, with the environment the process runs with. */
function served(env: NodeJS.ProcessEnv): Promise<{ argv: string[]; env: Map<string, string> }> {
  const c = spawn(process.execPath, [BIN, 'serve', '--db', ':memory:', '--port', '0', '--no-build'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ATTUNE_LOG_LEVEL: 'warn', ...env } });
  child = c;
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    c.stdout?.on('data', (d: Buffer) => {
      out += String(d);
      if (settled || !out.includes('attune is running at')) return;
      settled = true;
      const vars = readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0').filter(Boolean);
      resolve({ argv: readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').split('\0').filter(Boolean), env: new Map(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)])) });
    });
    c.stderr?.resume();
    c.once('exit', (code) => reject(new Error(`attune serve exited (${code}): ${out}`)));
  });
}

describe.skipIf(process.platform !== 'linux')('bin/attune.js serve', () => {
  it('runs in the same process with the default flags before its script (re-executed, no parent left)', async () => {
    const argv = await servedCommandLine({ NODE_OPTIONS: '' });
    expect(argv[0]).toBe(process.execPath);
    expect(argv.slice(1, 1 + SERVE_NODE_FLAGS.length)).toEqual([...SERVE_NODE_FLAGS]);
    expect(argv.slice(1 + SERVE_NODE_FLAGS.length)).toEqual([BIN, 'serve', '--db', ':memory:', '--port', '0', '--no-build']);
  }, 30_000);

  it('runs with four malloc arenas, or with the operator’s own MALLOC_ARENA_MAX', async () => {
    const { MALLOC_ARENA_MAX: _, ...rest } = process.env;
    expect((await served({ ...rest, NODE_OPTIONS: '' })).env.get('MALLOC_ARENA_MAX')).toBe('4');
    child?.kill('SIGKILL');
    expect((await served({ ...rest, NODE_OPTIONS: '', MALLOC_ARENA_MAX: '3' })).env.get('MALLOC_ARENA_MAX')).toBe('3');
  }, 30_000);

  it('keeps the operator’s NODE_OPTIONS choice instead of the default', async () => {
    const argv = await servedCommandLine({ NODE_OPTIONS: '--max-semi-space-size=8' });
    expect(argv.some((a) => a.startsWith('--max-semi-space-size'))).toBe(false);
    expect(argv.slice(1)).toEqual([BIN, 'serve', '--db', ':memory:', '--port', '0', '--no-build']);
  }, 30_000);
});
