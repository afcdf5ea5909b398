import { describe, expect, it } from 'vitest';
import { checkSpaceName, graphemeCount } from './spaceName.ts';

describe('checkSpaceName', () => {
  it('[H1] counts user-perceived characters: 80 emoji fit, 81 do not', () => {
    expect(checkSpaceName('😀'.repeat(80))).toEqual({ ok: true, name: '😀'.repeat(80) });
    expect(checkSpaceName('👩‍👩‍👧'.repeat(80)).ok).toBe(true); // 8 UTF-16 units each
    const r = checkSpaceName('😀'.repeat(81));
    expect(r).toEqual({ ok: false, message: 'name must be at most 80 characters (it has 81)' });
    expect(graphemeCount('e\u0301')).toBe(1);
  });

  it('[H1] trims and NFC-normalises; refuses an empty name', () => {
    expect(checkSpaceName('  Cafe\u0301 night \u3000')).toEqual({ ok: true, name: 'Café night' });
    expect(checkSpaceName(' \t ')).toEqual({ ok: false, message: 'name must not be empty' });
  });

  it('[H1] refuses control characters, bidi overrides and isolates, naming the character', () => {
    expect(checkSpaceName('a\u0000b')).toMatchObject({ ok: false, message: expect.stringContaining('U+0000') });
    expect(checkSpaceName('a\u0007b')).toMatchObject({ ok: false, message: expect.stringContaining('control character U+0007') });
    expect(checkSpaceName('a\u009bb')).toMatchObject({ ok: false, message: expect.stringContaining('U+009B') });
    expect(checkSpaceName('line\nbreak')).toMatchObject({ ok: false });
    expect(checkSpaceName('evil\u202Egnp.exe')).toMatchObject({ ok: false, message: expect.stringContaining('direction control U+202E') });
    for (const c of ['\u2066', '\u2067', '\u2068', '\u2069', '\u200F', '\u061C']) expect(checkSpaceName(`x${c}y`).ok).toBe(false);
    expect(checkSpaceName('x\u2028y')).toMatchObject({ ok: false, message: expect.stringContaining('one line') });
    expect(checkSpaceName('soft\u00ADhyphen')).toMatchObject({ ok: false, message: expect.stringContaining('U+00AD') });
    expect(checkSpaceName('b\uFEFFom')).toMatchObject({ ok: false, message: expect.stringContaining('U+FEFF') });
    expect(checkSpaceName('lone \uD800 surrogate')).toMatchObject({ ok: false, message: expect.stringContaining('surrogate') });
  });

  it('[H1] keeps what scripts and emoji need: ZWJ, ZWNJ, emoji tag sequences, RTL letters', () => {
    expect(checkSpaceName('👨‍💻 hack night').ok).toBe(true);
    expect(checkSpaceName('می\u200Cخواهم').ok).toBe(true);
    expect(checkSpaceName('🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} ceilidh').ok).toBe(true);
    expect(checkSpaceName('x\u{E0067}y').ok).toBe(false);
    expect(checkSpaceName('שלום עולם').ok).toBe(true);
  });
});
