import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNoteVerifier } from '../../log/note.ts';
import { captureIO } from '../../../test/support/captureIO.ts';
import { command } from './log.ts';

async function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const c = captureIO({ env, cwd });
  const code = await command.run(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('[L8] attune log key', () => {
  it('creates the key in ./data/log-key on first use and prints the same verifier key after', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'attune-cli-'));
    const first = await run(['key', '--origin', 'cli.test/log'], cwd);
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/generated a new signing key/);
    const vkey = first.out.trim();
    expect(() => parseNoteVerifier(vkey)).not.toThrow();
    expect(vkey.startsWith('cli.test/log+')).toBe(true);
    expect(statSync(join(cwd, 'data', 'log-key')).mode & 0o777).toBe(0o600);
    expect((await run(['key'], cwd)).out.trim()).toBe(vkey);
  });
  it('honours ATTUNE_DATA_DIR, rotates and retires', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'attune-cli-'));
    const env = { ATTUNE_DATA_DIR: 'state' };
    const old = (await run(['key'], cwd, env)).out.trim();
    expect(statSync(join(cwd, 'state', 'log-key')).isFile()).toBe(true);
    const rotated = (await run(['key', '--rotate'], cwd, env)).out.trim().split('\n');
    expect(rotated).toHaveLength(2);
    expect(rotated[1]).toBe(old);
    const oldId = old.split('+')[1] as string;
    const after = await run(['key', '--retire', oldId], cwd, env);
    expect(after.out.trim()).toBe(rotated[0]);
  });
  it('rejects anything but the key sub-command', async () => {
    await expect(run(['append'], mkdtempSync(join(tmpdir(), 'attune-cli-')))).rejects.toThrow(/attune log key/);
  });
});
