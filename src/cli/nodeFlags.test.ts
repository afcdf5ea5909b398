/**
 * `attune serve`'s default Node flags and environment (nodeFlags.ts): which the launcher adds,
 * when, and that an operator's own choice wins. That a real `bin/attune.js serve` process runs
 * with them is test/serveNodeFlags.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERVE_ENV, SERVE_NODE_FLAGS, serveLaunchForChild, serveRelaunch, serveRelaunchEnv, serveRelaunchFlags } from './nodeFlags.ts';

const can = { hasIpc: false, canExec: true };

describe('serve relaunch flags', () => {
  it('adds the default flags to `serve`, and only to serve (not its --help, not other commands)', () => {
    expect(SERVE_NODE_FLAGS).toContain('--max-semi-space-size=16');
    expect(serveRelaunchFlags(['serve'], [], '', can)).toEqual([...SERVE_NODE_FLAGS]);
    expect(serveRelaunchFlags(['serve', '--db', ':memory:', '--port', '0'], ['--expose-gc'], '--enable-source-maps', can)).toEqual([...SERVE_NODE_FLAGS]);
    expect(serveRelaunchFlags(['serve', '--help'], [], '', can)).toEqual([]);
    for (const c of [[], ['space', 'list'], ['load'], ['simulate', 'serve']]) expect(serveRelaunchFlags(c, [], '', can)).toEqual([]);
  });

  it('leaves an operator’s own flag of the same name alone, in NODE_OPTIONS or on the command line, however spelt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.constantFrom('--max-semi-space-size', '--max_semi_space_size'), fc.boolean(), (mb, name, inOptions) => {
        const flag = `${name}=${mb}`;
        const got = inOptions ? serveRelaunchFlags(['serve'], [], `--enable-source-maps ${flag}`, can) : serveRelaunchFlags(['serve'], ['--expose-gc', flag], '', can);
        expect(got).toEqual([]);
      }),
    );
  });

  it('never re-executes a process with an IPC channel (its descriptor does not survive exec) or without process.execve', () => {
    expect(serveRelaunchFlags(['serve'], [], '', { hasIpc: true, canExec: true })).toEqual([]);
    expect(serveRelaunchFlags(['serve'], [], '', { hasIpc: false, canExec: false })).toEqual([]);
  });
});

describe('serve relaunch environment', () => {
  it('adds four malloc arenas to `serve`, and only to serve', () => {
    expect(SERVE_ENV).toEqual({ MALLOC_ARENA_MAX: '4' });
    expect(serveRelaunchEnv(['serve', '--port', '0'], { PATH: '/usr/bin' }, can)).toEqual({ MALLOC_ARENA_MAX: '4' });
    expect(serveRelaunchEnv(['serve', '--help'], {}, can)).toEqual({});
    for (const c of [[], ['space', 'list'], ['load'], ['simulate', 'serve']]) expect(serveRelaunchEnv(c, {}, can)).toEqual({});
  });

  it('leaves an operator’s own choice alone: the variable (even empty), or the glibc tunable among others', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(''), fc.integer({ min: 1, max: 64 }).map(String)), fc.boolean(), (value, asTunable) => {
        const env = asTunable ? { GLIBC_TUNABLES: `glibc.malloc.tcache_count=0:glibc.malloc.arena_max=${value || 1}` } : { MALLOC_ARENA_MAX: value };
        expect(serveRelaunchEnv(['serve'], env, can)).toEqual({});
      }),
    );
    // Another tunable is not this one.
    expect(serveRelaunchEnv(['serve'], { GLIBC_TUNABLES: 'glibc.malloc.arena_test=4' }, can)).toEqual({ MALLOC_ARENA_MAX: '4' });
  });

  it('never re-executes a process with an IPC channel or without process.execve', () => {
    expect(serveRelaunchEnv(['serve'], {}, { hasIpc: true, canExec: true })).toEqual({});
    expect(serveRelaunchEnv(['serve'], {}, { hasIpc: false, canExec: false })).toEqual({});
  });
});

describe('serve relaunch, flags and environment together', () => {
  it('reads NODE_OPTIONS from the environment it is given, and adds only what is missing', () => {
    expect(serveRelaunch(['serve'], [], {}, can)).toEqual({ flags: [...SERVE_NODE_FLAGS], env: { ...SERVE_ENV } });
    expect(serveRelaunch(['serve'], [], { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '1' }, can)).toEqual({ flags: [], env: {} });
    expect(serveRelaunch(['serve'], [], {}, { hasIpc: true, canExec: true })).toEqual({ flags: [], env: {} });
  });

  it('gives a child spawned with an IPC channel what the launcher would have re-executed it with', () => {
    expect(serveLaunchForChild(['--expose-gc'], {})).toEqual({ flags: [...SERVE_NODE_FLAGS], env: { ...SERVE_ENV } });
    expect(serveLaunchForChild(['--max-semi-space-size=64'], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' })).toEqual({ flags: [], env: {} });
  });
});
