/**
 * `attune emotionml validate FILE…` and `attune emotionml import FILE`: EmotionML 1.0 checked
 * the whole way (well-formed XML, the W3C schema through libxml2, every machine-checkable
 * assertion with its number), and imported as affect records, one JSON object a line. See
 * docs/emotionml.md.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CheckOptions } from '../../analyze/emotionml/checkEmotionML.ts';
import { readEmotionML } from '../../analyze/emotionml/emotionml.ts';
import { decodeXmlBytes, parseXml } from '../../analyze/emotionml/parseXml.ts';
import { formatValidationError, validateEmotionML } from '../../analyze/emotionml/validateEmotionML.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';

const HELP = `Usage: attune emotionml validate FILE... [--embedded]
       attune emotionml import FILE [--embedded]

validate  Checks each FILE ('-' for standard input) as W3C EmotionML 1.0: well-formed XML, the
          EmotionML XML Schema (libxml2), and every machine-checkable assertion of the
          Recommendation. Prints 'FILE: valid', or one line per problem:
            FILE:LINE:COLUMN: [EmotionML 222] 'valence' is not in the dimension vocabulary …
          ([XML] for a well-formedness error, [EmotionML 100, schema] for libxml2's schema errors).
import    Validates FILE the same way and, if it is valid, writes one affect record per
          <emotion> as a JSON line: {"valence","arousal","confidence"} in attune's [-1, 1]
          scales, plus "source", "at" and "id" when the emotion says so. An emotion needs a
          valence-like dimension (valence, or PAD's pleasure) and arousal, from any vocabulary;
          the others are listed on stderr with the reason.

Options:
  --embedded    the EmotionML is embedded in an EMMA, SSML or SMIL document
  -h, --help    show this help

Vocabularies: the W3C ones (http://www.w3.org/TR/emotion-voc/xml#…) are built in, '#id' names a
<vocabulary> in the same document, and a relative or file: URI is read from disk relative to
FILE. Nothing is fetched from the network; any other URI is reported as unresolvable.

Exit status: 0 all valid (import: records written), 1 a file is invalid or unreadable, 2 usage.
`;

/** Reads a file (or stdin for '-') as XML text. */
async function readInput(file: string, io: CliIO): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return decodeXmlBytes(Buffer.concat(chunks));
  }
  return decodeXmlBytes(readFileSync(resolve(io.cwd, file)));
}

/** A loader for vocabulary documents on disk, relative to the document that refers to them. */
function fileLoader(file: string, io: CliIO): NonNullable<CheckOptions['loadVocabularyDocument']> {
  const base = file === '-' ? io.cwd : dirname(resolve(io.cwd, file));
  return (uri) => {
    let path: string;
    if (uri.startsWith('file:')) path = fileURLToPath(uri);
    else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) return undefined;
    else path = resolve(base, decodeURIComponent(uri));
    try {
      return parseXml(decodeXmlBytes(readFileSync(path)));
    } catch {
      return undefined;
    }
  };
}

function problem(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}

/** Validates one file; writes its problems; resolves to the text when valid. */
async function validateFile(file: string, opts: CheckOptions, io: CliIO, mode: 'validate' | 'import'): Promise<string | undefined> {
  let xml: string;
  try {
    xml = await readInput(file, io);
  } catch (e) {
    io.stderr.write(`${file}: ${problem(e)}\n`);
    return undefined;
  }
  const r = await validateEmotionML(xml, { ...opts, loadVocabularyDocument: fileLoader(file, io) });
  if (!r.valid) {
    // validate: the problems are the output; import: stdout is for records only.
    const out = mode === 'validate' ? io.stdout : io.stderr;
    for (const e of r.errors) out.write(`${formatValidationError(e, file)}\n`);
    return undefined;
  }
  if (mode === 'validate') io.stdout.write(`${file}: valid${r.check && r.check.host !== 'EmotionML' ? ` (EmotionML in ${r.check.host}: ${r.check.emotions.length} emotion${r.check.emotions.length === 1 ? '' : 's'})` : ''}\n`);
  return xml;
}

/** The `attune emotionml` command. */
export const command: Command = {
  summary: 'validate EmotionML 1.0 (schema and assertions); import it as affect records',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { embedded: { type: 'boolean' } } });
    const [sub, ...files] = positionals;
    const opts: CheckOptions = { embedded: values.embedded === true };
    if (sub === 'validate') {
      if (files.length === 0) throw new UsageError('validate needs at least one FILE');
      let ok = true;
      for (const f of files) if ((await validateFile(f, opts, io, 'validate')) === undefined) ok = false;
      return ok ? 0 : 1;
    }
    if (sub === 'import') {
      if (files.length !== 1) throw new UsageError('import takes exactly one FILE');
      const file = files[0] as string;
      const xml = await validateFile(file, opts, io, 'import');
      if (xml === undefined) return 1;
      const { records, skipped } = readEmotionML(xml, { ...opts, loadVocabularyDocument: fileLoader(file, io) });
      for (const r of records) io.stdout.write(`${JSON.stringify(r)}\n`);
      for (const s of skipped) io.stderr.write(`${file}:${s.line}:${s.column}: emotion skipped: ${s.reason}\n`);
      return 0;
    }
    throw new UsageError(sub === undefined ? "expected 'validate' or 'import'" : `unknown sub-command '${sub}' (expected 'validate' or 'import')`);
  },
};
