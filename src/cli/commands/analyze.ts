/**
 * `attune analyze [FILE]` — text → affect, one line in, one record out, in order.
 *
 * Contract (other tools depend on it; docs/text-analyser.md):
 * - input: UTF-8 text, one item a line, from FILE or stdin (`-` also means stdin); LF or CRLF;
 *   a UTF-8 BOM at the very start is ignored;
 * - `--format json` (default): one JSON object a line, `{"valence":…,"arousal":…,"confidence":…}`;
 *   `--format csv`: header `valence,arousal,confidence`, then one row a line;
 *   `--format emotionml`: one EmotionML 1.0 document, one `<emotion id="line-N">` per line;
 * - an empty line gives `{"valence":0,"arousal":0,"confidence":0}`;
 * - a line over 10,000 characters or with invalid UTF-8 is reported on stderr with its line
 *   number and gives `null` (json), an empty row `,,` (csv) or a comment (emotionml), and the
 *   run goes on;
 * - exit 0 unless the input could not be read at all (then 1); bad flags exit 2.
 * - a progress line on stderr once more than 10,000 lines have been read, only when stderr is a
 *   terminal.
 * The input is streamed in bytes: memory stays bounded whatever the file or line size.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type TextAffect, analyzeText } from '../../analyze/text/analyzeText.ts';
import { DOCUMENT_TAIL, type DimensionSetName, documentHead, emotionElement } from '../../analyze/emotionml/emotionml.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';

/** Longest line accepted, in characters (Unicode code points). */
export const MAX_LINE_CHARS = 10_000;

/** Inputs longer than this many lines show a progress line when stderr is a terminal. */
export const PROGRESS_AFTER_LINES = 10_000;

/** A UTF-8 code point takes at most 4 bytes; past this a line is too long whatever it holds. */
const MAX_LINE_BYTES = MAX_LINE_CHARS * 4 + 1;

const FORMATS = ['json', 'csv', 'emotionml'] as const;
type Format = (typeof FORMATS)[number];

const HELP = `Usage: attune analyze [options] [FILE]

Reads English text, one item a line, from FILE or standard input, and writes one
affect estimate a line, in the same order. Runs offline.

Options:
  --format FORMAT        json (default): {"valence":…,"arousal":…,"confidence":…} a line
                         csv: header valence,arousal,confidence then one row a line
                         emotionml: one W3C EmotionML 1.0 document
  --dimension-set SET    EmotionML vocabulary: fsre (valence, arousal; default) or
                         pad (pleasure, arousal)
  -h, --help             show this help

valence and arousal are in [-1, 1] (EmoBank's 1–5 ratings with 3 as 0); confidence
is in [0, 1]. An empty line gives confidence 0. A line over 10,000 characters or
with invalid UTF-8 is reported on stderr and gives null (csv: an empty row;
emotionml: a comment). Exit status 0 unless the input cannot be read.
`;

/** One input line as bytes, or a marker that it was too long to keep. */
interface RawLine {
  readonly lineNo: number;
  readonly bytes: Uint8Array | null;
}

/**
 * Splits a byte stream into lines (LF; a CR before it is removed later, after decoding),
 * keeping at most `maxBytes` of any line. Reports bytes consumed for progress.
 */
async function* splitLines(
  stream: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
  onBytes: (n: number) => void,
): AsyncGenerator<RawLine> {
  let buf = new Uint8Array(4096);
  let len = 0;
  let overflow = false;
  let lineNo = 0;
  const append = (chunk: Uint8Array, from: number, to: number): void => {
    if (overflow) return;
    const n = to - from;
    if (len + n > maxBytes) {
      overflow = true;
      return;
    }
    if (len + n > buf.length) {
      const nb = new Uint8Array(Math.max(buf.length * 2, len + n));
      nb.set(buf.subarray(0, len));
      buf = nb;
    }
    buf.set(chunk.subarray(from, to), len);
    len += n;
  };
  for await (const c of stream) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    onBytes(chunk.length);
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl < 0) {
        append(chunk, from, chunk.length);
        break;
      }
      append(chunk, from, nl);
      lineNo++;
      yield { lineNo, bytes: overflow ? null : buf.slice(0, len) };
      len = 0;
      overflow = false;
      from = nl + 1;
    }
  }
  // A last line without a newline is still an item; an input ending in "\n" has no extra one.
  if (len > 0 || overflow) {
    lineNo++;
    yield { lineNo, bytes: overflow ? null : buf.slice(0, len) };
  }
}

function round4(x: number): number {
  const r = Math.round(x * 1e4) / 1e4;
  return r === 0 ? 0 : r;
}

/** Counts code points, stopping early once past `limit`. */
function longerThan(s: string, limit: number): boolean {
  if (s.length <= limit) return false;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    if (++n > limit) return true;
  }
  return false;
}

/** Buffers output and respects the stream's backpressure; notices when the reader goes away. */
class Output {
  private pending = '';
  private readonly stream: NodeJS.WritableStream;
  /** Set once the stream errored (e.g. EPIPE after `| head`): stop producing output. */
  closed = false;
  private readonly onError = (): void => {
    this.closed = true;
  };
  constructor(stream: NodeJS.WritableStream) {
    this.stream = stream;
    stream.on('error', this.onError);
  }
  async write(s: string): Promise<void> {
    this.pending += s;
    if (this.pending.length >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.pending === '' || this.closed) return;
    const s = this.pending;
    this.pending = '';
    if (!this.stream.write(s)) {
      // Wait for drain, or for an error that means nobody is reading any more.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
  }
  /** Stops listening for errors. */
  dispose(): void {
    this.stream.off('error', this.onError);
  }
}

/** A progress line on a terminal, redrawn at most every 100 ms. */
class Progress {
  private readonly io: CliIO;
  private readonly totalBytes: number | undefined;
  private bytes = 0;
  private lines = 0;
  private last = 0;
  private shown = false;
  constructor(io: CliIO, totalBytes: number | undefined) {
    this.io = io;
    this.totalBytes = totalBytes;
  }
  addBytes(n: number): void {
    this.bytes += n;
  }
  tick(lines: number): void {
    this.lines = lines;
    if (!this.io.stderr.isTTY || lines <= PROGRESS_AFTER_LINES) return;
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.draw();
  }
  private draw(): void {
    const width = Math.max(10, Math.min(40, (this.io.stderr.columns ?? 80) - 40));
    let line: string;
    if (this.totalBytes && this.totalBytes > 0) {
      const f = Math.min(1, this.bytes / this.totalBytes);
      const filled = Math.round(f * width);
      line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}%  ${this.lines.toLocaleString('en')} lines`;
    } else {
      line = `${this.lines.toLocaleString('en')} lines`;
    }
    this.io.stderr.write(`\r\x1b[K${line}`);
    this.shown = true;
  }
  /** Clears the progress line so a message can be printed. */
  clear(): void {
    if (this.shown) {
      this.io.stderr.write('\r\x1b[K');
      this.shown = false;
    }
  }
}

/** Analyses the lines of `input` and writes records to `io.stdout` (exported for tests). */
export async function analyzeStream(
  input: AsyncIterable<Uint8Array | string>,
  opts: { readonly format: Format; readonly dimensionSet: DimensionSetName; readonly name: string; readonly totalBytes?: number },
  io: CliIO,
): Promise<void> {
  const out = new Output(io.stdout);
  const progress = new Progress(io, opts.totalBytes);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const warn = (lineNo: number, msg: string): void => {
    progress.clear();
    io.stderr.write(`attune analyze: ${opts.name}:${lineNo}: ${msg}\n`);
  };
  try {
    if (opts.format === 'csv') await out.write('valence,arousal,confidence\n');
    if (opts.format === 'emotionml') await out.write(documentHead(opts.dimensionSet));
    for await (const raw of splitLines(input, MAX_LINE_BYTES, (n) => progress.addBytes(n))) {
      if (io.signal.aborted || out.closed) break;
      const { result, reason } = analyzeLine(raw, decoder);
      if (result === null) warn(raw.lineNo, reason);
      await out.write(render(result, raw.lineNo, opts, reason));
      progress.tick(raw.lineNo);
    }
    if (opts.format === 'emotionml') await out.write(DOCUMENT_TAIL);
    await out.flush();
  } finally {
    progress.clear();
    out.dispose();
  }
}

const TOO_LONG = `longer than ${MAX_LINE_CHARS.toLocaleString('en')} characters; skipped`;

/** Decodes and analyses one line; `result` is null (with a reason) when the line is skipped. */
function analyzeLine(raw: RawLine, decoder: TextDecoder): { result: TextAffect | null; reason: string } {
  if (raw.bytes === null) return { result: null, reason: TOO_LONG };
  let text: string;
  try {
    text = decoder.decode(raw.bytes);
  } catch {
    return { result: null, reason: 'not valid UTF-8; skipped' };
  }
  if (raw.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (longerThan(text, MAX_LINE_CHARS)) return { result: null, reason: TOO_LONG };
  return { result: text === '' ? { valence: 0, arousal: 0, confidence: 0 } : analyzeText(text), reason: '' };
}

function render(r: TextAffect | null, lineNo: number, opts: { readonly format: Format; readonly dimensionSet: DimensionSetName }, reason: string): string {
  switch (opts.format) {
    case 'json':
      return r === null ? 'null\n' : `{"valence":${round4(r.valence)},"arousal":${round4(r.arousal)},"confidence":${round4(r.confidence)}}\n`;
    case 'csv':
      return r === null ? ',,\n' : `${round4(r.valence)},${round4(r.arousal)},${round4(r.confidence)}\n`;
    case 'emotionml':
      return r === null
        ? `  <!-- line ${lineNo}: ${reason} -->\n`
        : `${emotionElement({ valence: round4(r.valence), arousal: round4(r.arousal), confidence: round4(r.confidence), source: 'text', id: `line-${lineNo}` }, opts.dimensionSet)}\n`;
  }
}

/** The `analyze` command. */
export const command: Command = {
  summary: 'Estimate valence, arousal and confidence for each line of English text (offline)',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'json' },
        'dimension-set': { type: 'string', default: 'fsre' },
      },
    });
    const format = values.format === 'jsonl' ? 'json' : values.format;
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be json, csv or emotionml (got '${format}')`);
    const dimensionSet = values['dimension-set'];
    if (dimensionSet !== 'fsre' && dimensionSet !== 'pad') throw new UsageError(`--dimension-set must be fsre or pad (got '${dimensionSet}')`);
    if (positionals.length > 1) throw new UsageError('expected at most one FILE');
    const file = positionals[0];
    const opts = { format: format as Format, dimensionSet: dimensionSet as DimensionSetName };

    if (file === undefined || file === '-') {
      await analyzeStream(io.stdin as AsyncIterable<Uint8Array | string>, { ...opts, name: '<stdin>' }, io);
      return 0;
    }
    const path = resolve(io.cwd, file);
    let size: number;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = st.size;
    } catch (e) {
      io.stderr.write(`attune analyze: cannot read '${file}': ${describe(e)}\n`);
      return 1;
    }
    const stream = createReadStream(path, { highWaterMark: 1 << 16 });
    try {
      await analyzeStream(stream, { ...opts, name: file, totalBytes: size }, io);
    } catch (e) {
      if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('E')) {
        io.stderr.write(`attune analyze: cannot read '${file}': ${describe(e)}\n`);
        return 1;
      }
      throw e;
    } finally {
      stream.destroy();
    }
    return 0;
  },
};

function describe(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}
