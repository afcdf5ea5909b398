import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { importEmotionML } from '../../analyze/emotionml/emotionml.ts';
import { validateEmotionML as validateWithWasm } from '../../analyze/emotionml/validateEmotionML.ts';
import { analyzeText } from '../../analyze/text/analyzeText.ts';
import type { CliIO } from '../command.ts';
import { main } from '../main.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'attune-analyze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Capture extends Writable {
  chunks: string[] = [];
  isTTY: boolean;
  columns = 80;
  constructor(isTTY = false) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

interface Run {
  code: number;
  out: string;
  err: string;
  stderr: Capture;
}

/** Runs `attune …` in-process with `input` (bytes, split into the given chunks) as stdin. */
async function run(argv: string[], input: Uint8Array | string = '', opts: { stderrTTY?: boolean; chunk?: number } = {}): Promise<Run> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  const size = opts.chunk ?? 7;
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  const stdout = new Capture();
  const stderr = new Capture(opts.stderrTTY ?? false);
  const io: CliIO = { stdin: Readable.from(parts), stdout, stderr, env: {}, cwd: dir, signal: new AbortController().signal };
  const code = await main(['analyze', ...argv], io);
  return { code, out: stdout.text, err: stderr.text, stderr };
}

const expected = (s: string): string => {
  const r = analyzeText(s);
  const f = (x: number) => {
    const y = Math.round(x * 1e4) / 1e4;
    return y === 0 ? 0 : y;
  };
  return JSON.stringify({ valence: f(r.valence), arousal: f(r.arousal), confidence: f(r.confidence) });
};

describe('attune analyze', () => {
  it('writes one JSON object a line, in order, with exactly the keys valence, arousal, confidence', async () => {
    const lines = ['I love this!', 'This is awful.', 'The train leaves at noon.'];
    const r = await run([], `${lines.join('\n')}\n`);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const out = r.out.trimEnd().split('\n');
    expect(out).toEqual(lines.map(expected));
    for (const o of out) expect(Object.keys(JSON.parse(o))).toEqual(['valence', 'arousal', 'confidence']);
  });

  it('gives confidence 0 for an empty line, handles CRLF, a BOM and a last line without newline', async () => {
    const r = await run([], '\ufeffGreat news!\r\n\r\n\nso sad');
    expect(r.out.split('\n')).toEqual([expected('Great news!'), '{"valence":0,"arousal":0,"confidence":0}', '{"valence":0,"arousal":0,"confidence":0}', expected('so sad'), '']);
  });

  it('reports invalid UTF-8 with its line number, writes null, and goes on (exit 0)', async () => {
    const bytes = Buffer.concat([Buffer.from('good day\n'), Buffer.from([0x66, 0xff, 0xfe, 0x0a]), Buffer.from('bad day\n'), Buffer.from([0xe2, 0x82, 0x0a])]);
    const r = await run([], bytes, { chunk: 3 });
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([expected('good day'), 'null', expected('bad day'), 'null', '']);
    expect(r.err).toMatch(/<stdin>:2: not valid UTF-8/);
    expect(r.err).toMatch(/<stdin>:4: not valid UTF-8/);
  });

  it('accepts exactly 10,000 characters (astral ones count once) and rejects 10,001 and huge lines', async () => {
    const ok = '😀'.repeat(10_000);
    const long = 'a'.repeat(10_001);
    const huge = 'b'.repeat(1_000_000);
    const r = await run([], `${ok}\n${long}\nfine\n${huge}\nend`, { chunk: 65536 });
    expect(r.code).toBe(0);
    const out = r.out.trimEnd().split('\n');
    expect(out).toHaveLength(5);
    expect(out[0]).toBe(expected(ok));
    expect(out[1]).toBe('null');
    expect(out[2]).toBe(expected('fine'));
    expect(out[3]).toBe('null');
    expect(out[4]).toBe(expected('end'));
    expect(r.err).toMatch(/:2: longer than 10,000 characters/);
    expect(r.err).toMatch(/:4: longer than 10,000 characters/);
  });

  it('--format csv writes a header and one row a line (empty fields for a skipped line)', async () => {
    const r = await run(['--format', 'csv'], 'happy\n\n');
    const rows = r.out.trimEnd().split('\n');
    expect(rows[0]).toBe('valence,arousal,confidence');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toBe('0,0,0');
    const bad = await run(['--format', 'csv'], Buffer.from([0x61, 0x0a, 0xc3, 0x0a]));
    expect(bad.out.split('\n')).toEqual(['valence,arousal,confidence', expect.stringMatching(/^-?[\d.]+,-?[\d.]+,[\d.]+$/), ',,', '']);
  });

  it('--format emotionml writes one valid EmotionML 1.0 document that imports back', async () => {
    const lines = ['What a wonderful surprise!', '', 'I am furious.'];
    const bytes = Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0xff, 0x0a])]);
    for (const set of ['fsre', 'pad']) {
      const r = await run(['--format', 'emotionml', '--dimension-set', set], bytes);
      expect(r.code).toBe(0);
      const v = await validateWithWasm(r.out);
      expect(v.errors).toEqual([]);
      const back = importEmotionML(r.out);
      expect(back.map((b) => b.id)).toEqual(['line-1', 'line-2', 'line-3']);
      expect(back.map((b) => b.source)).toEqual(['text', 'text', 'text']);
      const json = (await run([], `${lines.join('\n')}\n`)).out.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(back.map(({ valence, arousal, confidence }) => ({ valence, arousal, confidence }))).toEqual(json);
      expect(r.out).toContain('<!-- line 4: not valid UTF-8; skipped -->');
    }
  });

  it('reads a file argument, and a missing file is a clear error with exit 1', async () => {
    const file = join(dir, 'in.txt');
    writeFileSync(file, 'hello there\n');
    const r = await run(['in.txt']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${expected('hello there')}\n`);
    const missing = await run(['nope.txt']);
    expect(missing.code).toBe(1);
    expect(missing.out).toBe('');
    expect(missing.err).toBe("attune analyze: cannot read 'nope.txt': no such file\n");
    const isDir = await run(['.']);
    expect(isDir.code).toBe(1);
    expect(isDir.err).toMatch(/is a directory/);
  });

  it('rejects unknown formats and flags with a usage error (exit 2)', async () => {
    expect((await run(['--format', 'xml'])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run(['a', 'b'])).code).toBe(2);
  });

  it('stops quietly when the reader goes away (EPIPE), exit 0', async () => {
    let writes = 0;
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    stdout.on('error', () => {});
    const stderr = new Capture();
    const io: CliIO = { stdin: Readable.from([Buffer.from('fine words here\n'.repeat(20_000))]), stdout, stderr, env: {}, cwd: dir, signal: new AbortController().signal };
    expect(await main(['analyze'], io)).toBe(0);
    expect(writes).toBe(1);
    expect(stderr.text).toBe('');
  });

  it('shows a progress line on a terminal only past 10,000 lines', async () => {
    const many = 'ok\n'.repeat(10_500);
    const tty = await run([], many, { stderrTTY: true, chunk: 4096 });
    expect(tty.out.split('\n')).toHaveLength(10_501);
    expect(tty.err).toMatch(/10,\d{3} lines/);
    expect(tty.err.endsWith('\r\x1b[K')).toBe(true);
    const pipe = await run([], many, { stderrTTY: false, chunk: 4096 });
    expect(pipe.err).toBe('');
    const few = await run([], 'ok\n'.repeat(100), { stderrTTY: true });
    expect(few.err).toBe('');
  });

  it('works as a real process: node bin/attune.js analyze (Node 24 from node_modules)', async () => {
    const node = join(ROOT, 'node_modules', '.bin', 'node');
    const child = spawn(node, [join(ROOT, 'bin', 'attune.js'), 'analyze', '--format', 'csv'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdin.end('I feel great\n\n');
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual(['valence,arousal,confidence', expect.stringMatching(/^0\.\d+,-?[\d.]+,0\.\d+$/), '0,0,0', '']);
  });
});
