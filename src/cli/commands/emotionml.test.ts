import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIO } from '../../../test/support/captureIO.ts';
import type { Affect } from '../../core/affect.ts';
import { exportAffects } from '../../analyze/emotionml/emotionml.ts';
import { main } from '../main.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'attune-emotionml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NS = 'http://www.w3.org/2009/10/emotionml';
const W3C = 'http://www.w3.org/TR/emotion-voc/xml';
const records: Affect[] = [
  { valence: 0.1, arousal: -0.3, confidence: 0.6, source: 'text', at: 1_763_856_000_000 },
  { valence: -1, arousal: 1, confidence: 1, source: 'tap', at: 0 },
];

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

async function run(args: string[], stdin?: string) {
  const c = captureIO({ cwd: dir, ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }) });
  const code = await main(['emotionml', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('attune emotionml validate', () => {
  it('says a valid document is valid (exit 0), also from stdin', async () => {
    const f = file('ok.emotionml', exportAffects(records));
    expect(await run(['validate', f])).toEqual({ code: 0, out: 'ok.emotionml: valid\n', err: '' });
    expect(await run(['validate', '-'], exportAffects(records))).toMatchObject({ code: 0, out: '-: valid\n' });
  });

  it('[EmotionML 500 222 110] prints each problem as FILE:LINE:COLUMN: [EmotionML N] … and exits 1', async () => {
    const bad = file('bad.emotionml', exportAffects(records).replace('value="0.55"', 'value=""').replace('name="arousal"', 'name="pleasure"'));
    const r = await run(['validate', bad]);
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toContain("bad.emotionml:5:31: [EmotionML 500] value '' is not a number in [0, 1]");
    expect(lines).toContain("bad.emotionml:6:16: [EmotionML 222] 'pleasure' is not in the dimension vocabulary 'fsre-dimensions' (W3C)");
    expect(lines.some((l) => /^bad\.emotionml:5:1: \[EmotionML 100, schema\] .*scale-value/.test(l))).toBe(true);
    const noVersion = file('nov.emotionml', `<emotionml xmlns="${NS}"/>`);
    expect((await run(['validate', noVersion])).out).toMatch(/^nov\.emotionml:1:1: \[EmotionML 100, schema\] .*version.*\nnov\.emotionml:1:1: \[EmotionML 110\] <emotionml> has no version attribute\n$/);
  });

  it('reports XML that is not well-formed, and a missing file, and goes on to the next file', async () => {
    const amp = file('amp.emotionml', `<emotionml xmlns="${NS}" version="1.0">\n  R&D\n</emotionml>`);
    const ok = file('ok2.emotionml', exportAffects([]));
    const r = await run(['validate', amp, 'missing.emotionml', ok]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("amp.emotionml:2:4: [XML] not well-formed XML: '&' does not start a reference (write it as &amp;)\nok2.emotionml: valid\n");
    expect(r.err).toBe('missing.emotionml: no such file\n');
  });

  it('[EmotionML 117 222] reads a vocabulary from another local file, relative to the document', async () => {
    file('voc.emotionml', `<emotionml xmlns="${NS}" version="1.0"><vocabulary type="dimension" id="mood"><item name="valence"/><item name="arousal"/></vocabulary></emotionml>`);
    const f = file('uses-voc.emotionml', `<emotionml xmlns="${NS}" version="1.0" dimension-set="voc.emotionml#mood"><emotion><dimension name="valence" value="0.25"/><dimension name="arousal" value="0.75"/></emotion></emotionml>`);
    expect(await run(['validate', f])).toMatchObject({ code: 0, out: 'uses-voc.emotionml: valid\n' });
    const g = file('uses-missing.emotionml', `<emotionml xmlns="${NS}" version="1.0" dimension-set="nowhere.emotionml#mood"/>`);
    expect((await run(['validate', g])).out).toBe(
      "uses-missing.emotionml:1:70: [EmotionML 117] dimension-set: cannot resolve 'nowhere.emotionml' (only this document, the W3C vocabularies and local files are read)\n",
    );
  });

  it('[EmotionML 101] --embedded validates the EmotionML inside an EMMA document', async () => {
    const emma = file(
      'in.emma',
      `<emma:emma version="1.0" xmlns:emma="http://www.w3.org/2003/04/emma" xmlns="${NS}"><emma:interpretation id="i"><emotion dimension-set="${W3C}#pad-dimensions"><dimension name="pleasure" value="0.9"/><dimension name="arousal" value="0.1"/></emotion></emma:interpretation></emma:emma>`,
    );
    expect((await run(['validate', emma])).out).toMatch(/^in\.emma:1:1: \[EmotionML 101\] the root element is <emma:emma>, not <emotionml>$/m);
    expect(await run(['validate', '--embedded', emma])).toMatchObject({ code: 0, out: 'in.emma: valid (EmotionML in EMMA: 1 emotion)\n' });
  });

  it('usage errors exit 2', async () => {
    expect((await run(['validate'])).code).toBe(2);
    expect((await run(['import', 'a', 'b'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
  });
});

describe('attune emotionml import', () => {
  it('writes one affect record per emotion as JSON lines, exactly the records exported', async () => {
    const f = file('rec.emotionml', exportAffects(records));
    const r = await run(['import', f]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(records);
  });

  it('[EmotionML 500] refuses an invalid document: problems on stderr, nothing on stdout, exit 1', async () => {
    const f = file('rec-bad.emotionml', exportAffects(records).replace('value="0.55"', 'value="0x1"'));
    const r = await run(['import', f]);
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toContain("rec-bad.emotionml:5:31: [EmotionML 500] value '0x1' is not a number in [0, 1]");
  });

  it('lists valid emotions that are no affect record on stderr', async () => {
    const f = file(
      'mixed.emotionml',
      `<emotionml xmlns="${NS}" version="1.0" dimension-set="${W3C}#fsre-dimensions">\n<emotion><dimension name="valence" value="1"/><dimension name="arousal" value="0.5"/></emotion>\n<emotion category-set="${W3C}#big6"><category name="fear"/></emotion>\n</emotionml>`,
    );
    const r = await run(['import', f]);
    expect(r).toEqual({ code: 0, out: '{"valence":1,"arousal":0,"confidence":1}\n', err: 'mixed.emotionml:3:1: emotion skipped: no dimensions (categories, appraisals or action tendencies only)\n' });
  });

  it('works as a real process: node bin/attune.js emotionml import (Node 24 from node_modules)', async () => {
    const f = join(dir, file('proc.emotionml', exportAffects(records.slice(0, 1), { dimensionSet: 'pad' })));
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), [join(ROOT, 'bin', 'attune.js'), 'emotionml', 'import', f], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(records[0]);
  });
});
