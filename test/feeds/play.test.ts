/**
 * `attune play --demo` end to end, in process: a simulated session is recorded, played at 20×
 * into a rehearsal space on the command's own server, and followed by the feeds as a live room —
 * the SSE stream carries its pulses, and Debian's `oscdump` receives its OSC bundles.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../src/cli/commands/play.ts';
import { captureIO } from '../support/captureIO.ts';
import { hasOscdump, type Oscdump, startOscdump } from '../support/oscdump.ts';

const dumps: Oscdump[] = [];
afterEach(() => {
  for (const d of dumps.splice(0)) d.stop();
});

describe('attune play', () => {
  it.runIf(hasOscdump)('[F6] --demo plays into a rehearsal space that SSE and OSC follow as live', async () => {
    const dump = await startOscdump();
    dumps.push(dump);
    const { port } = dump;

    // The server reports failures on stderr through console.error: a rehearsal must cause none.
    const reported: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
      reported.push(a.map(String).join(' '));
    });
    const cap = captureIO();
    const run = command.run(['--demo', 'split2', '--people', '30', '--minutes', '1', '--speed', '20', '--port', '0', '--no-build', '--osc', `127.0.0.1:${port}`], cap.io);
    await expect.poll(() => cap.out(), { timeout: 30_000 }).toContain('stream');
    const url = /stream\s+(\S+)/.exec(cap.out())?.[1] as string;
    const code = /\/api\/spaces\/([^/]+)\/stream/.exec(url)?.[1] as string;
    // The stream: pulses of the rehearsal space, with people in it once the recording's joins play.
    const ctl = new AbortController();
    const res = await fetch(url, { signal: ctl.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    let counted = 0;
    while (counted === 0) {
      text += new TextDecoder().decode((await reader.read()).value);
      for (const m of text.matchAll(/"count":(\d+)/g)) counted = Math.max(counted, Number(m[1]));
    }
    ctl.abort();
    expect(counted).toBeGreaterThan(0);
    expect(text).toContain(`"space":"${code}"`);
    // OSC: bundles for the rehearsal space reached the receiver.
    await expect.poll(() => dump.output().includes(`/attune/${code}/count i`), { timeout: 10_000 }).toBe(true);
    // The whole minute plays in about 3 s at 20×.
    await expect.poll(() => cap.out(), { timeout: 30_000 }).toMatch(/played (\d+) of \1 steps/);
    cap.abort();
    expect(await run).toBe(0);
    spy.mockRestore();
    expect(reported).toEqual([]);
  }, 60_000);

  it('[F6] refuses to play into another server and asks for one source', async () => {
    const a = captureIO();
    expect(await command.run(['--demo', 'surge', '--no-serve'], a.io)).toBe(2);
    expect(a.err()).toMatch(/not supported yet/);
    await expect(command.run(['--speed', '2'], captureIO().io)).rejects.toThrow(/either --db PATH --space CODE or --demo/);
  });
});
