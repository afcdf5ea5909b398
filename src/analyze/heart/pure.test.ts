/**
 * analyze/heart runs on the phone (Vite bundles it into the join page) and in the simulator:
 * it must stay pure and browser-safe — no package, no node:*, nothing outside itself and core.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = import.meta.dirname;
const CORE = resolve(DIR, '../../core');

function problems(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:from\s*|import\s*\(\s*|^\s*import\s*)['"]([^'"]+)['"]/gm)) {
    const spec = m[1] as string;
    if (!spec.startsWith('.')) out.push(`${file}: imports the package '${spec}'`);
    else {
      const target = resolve(DIR, spec);
      if (!target.startsWith(DIR) && !target.startsWith(CORE)) out.push(`${file}: imports '${spec}' outside analyze/heart and core`);
    }
  }
  return out;
}

describe('analyze/heart layering', () => {
  it('[D1] imports nothing but itself and core', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(3);
    expect(files.flatMap((f) => problems(f, readFileSync(join(DIR, f), 'utf8')))).toEqual([]);
  });

  it('[D1] the check can fail', () => {
    expect(problems('x.ts', "import { readFileSync } from 'node:fs';")).toHaveLength(1);
    expect(problems('x.ts', "import '../../storage/port.ts';")).toHaveLength(1);
    expect(problems('x.ts', "import { clamp } from '../../core/affect.ts';\nimport './rrWindow.ts';")).toEqual([]);
  });
});
