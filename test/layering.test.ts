/**
 * The house layering (../shared/STYLE.md), enforced: `core` is pure; adapters import core and
 * their port, never another adapter; only `server/` and `cli/` wire adapters together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every import specifier in a file (static, dynamic, re-exports). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3]) as string);
  return out;
}

/** The layer of a file under src/: `core`, `storage/sqlite`, `http`, … */
function layerOf(abs: string): string {
  const rel = relative(SRC, abs).split('/');
  const [top, sub] = rel;
  if ((top === 'storage' || top === 'bus') && sub && !sub.endsWith('.ts')) return `${top}/${sub}`;
  return top ?? '';
}

const ADAPTERS = /^(storage|bus)\/(?!port)/;
/** Which layers each layer may import (besides itself). */
const ALLOWED: Record<string, (target: string) => boolean> = {
  core: () => false,
  analyze: (t) => t === 'core',
  log: (t) => t === 'core' || t === 'storage' || t === 'http',
  space: (t) => t === 'core' || t === 'storage' || t === 'bus',
  // The simulator runs the phone's own pure pipelines (analyze/heart) exactly as phones do, and
  // the server's space machine on the host's manual scheduler (space/scheduler.ts).
  sim: (t) => t === 'core' || t === 'client' || t === 'analyze' || t === 'space',
  // The protocol client runs in the browser too (Vite bundles it): core only, no node:*, no ws.
  client: (t) => t === 'core',
  storage: (t) => t === 'core',
  bus: (t) => t === 'core',
  http: (t) => t === 'core' || t === 'space' || t === 'storage' || t === 'log' || t === 'feeds',
  // Feeds (OSC, SSE, webhooks) subscribe to released views on the bus and run on the host's
  // scheduler; the steward's feed settings are kept through the Storage port (S13), never an adapter.
  feeds: (t) => t === 'core' || t === 'space' || t === 'bus' || t === 'storage',
  // Rehearsals play a recorded session (read through the Storage port) into a space host.
  ws: (t) => t === 'core' || t === 'space' || t === 'bus',
  server: () => true,
  cli: () => true,
  types: () => false,
};

/** Packages the pure core may use (pure computation, no I/O). */
// @marcbachmann/cel-js: the CEL engine council policies are evaluated with (core/policy; pure, no I/O).
const CORE_PACKAGES = new Set(['valibot', '@marcbachmann']);

function check(sources: readonly (readonly [string, string])[] = files(SRC).map((f) => [f, readFileSync(f, 'utf8')] as const)): string[] {
  const problems: string[] = [];
  for (const [file, src] of sources) {
    const layer = layerOf(file);
    const top = layer.split('/')[0] as string;
    for (const spec of importsOf(src)) {
      const rel = relative(ROOT, file);
      if (!spec.startsWith('.')) {
        if (top === 'core' && (spec.startsWith('node:') || !CORE_PACKAGES.has(spec.split('/')[0] as string))) problems.push(`${rel}: core must stay pure but imports '${spec}'`);
        if (top === 'client' && (spec.startsWith('node:') || !CORE_PACKAGES.has(spec.split('/')[0] as string))) problems.push(`${rel}: client runs in the browser and may import only core's packages, not '${spec}'`);
        continue;
      }
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(SRC)) continue;
      const tLayer = layerOf(target);
      const tTop = tLayer.split('/')[0] as string;
      if (tLayer === layer) continue;
      if (ADAPTERS.test(layer) && ADAPTERS.test(tLayer)) {
        problems.push(`${rel}: adapter ${layer} imports another adapter ${tLayer}`);
        continue;
      }
      if (ADAPTERS.test(tLayer) && top !== 'server' && top !== 'cli') {
        problems.push(`${rel}: only server/ and cli/ may import the adapter ${tLayer}`);
        continue;
      }
      if (tTop === top) continue;
      const allow = ALLOWED[top];
      if (!allow) problems.push(`${rel}: folder '${top}' has no layering rule; add one to test/layering.test.ts`);
      else if (!allow(tTop)) problems.push(`${rel}: ${top}/ may not import ${tLayer}/ ('${spec}')`);
    }
  }
  return problems;
}

describe('layering', () => {
  it('[D1] finds imports of every form', () => {
    expect(importsOf(`import a from './a.ts';\nimport type { B } from "../b.ts";\nexport { c } from './c.ts';\nconst d = await import('./d.ts');\nimport './e.ts';`)).toEqual(['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts']);
  });

  it('[D1] flags each kind of crossing', () => {
    const f = (p: string) => join(SRC, p);
    expect(check([[f('core/x.ts'), "import { readFileSync } from 'node:fs';"]])).toEqual([expect.stringMatching(/core must stay pure/)]);
    expect(check([[f('core/x.ts'), "import '../storage/port.ts';"]])).toEqual([expect.stringMatching(/core\/ may not import storage/)]);
    expect(check([[f('storage/sqlite/x.ts'), "import '../memory/memoryStorage.ts';"]])).toEqual([expect.stringMatching(/adapter storage\/sqlite imports another adapter storage\/memory/)]);
    expect(check([[f('http/x.ts'), "import '../storage/sqlite/sqliteStorage.ts';"]])).toEqual([expect.stringMatching(/only server\/ and cli\/ may import the adapter/)]);
    expect(check([[f('server/x.ts'), "import '../storage/sqlite/sqliteStorage.ts';"]])).toEqual([]);
    expect(check([[f('client/x.ts'), "import WebSocket from 'ws';"]])).toEqual([expect.stringMatching(/client runs in the browser/)]);
    expect(check([[f('client/x.ts'), "import { setTimeout } from 'node:timers';"]])).toEqual([expect.stringMatching(/client runs in the browser/)]);
    expect(check([[f('client/x.ts'), "import '../space/spaceService.ts';"]])).toEqual([expect.stringMatching(/client\/ may not import space/)]);
    expect(check([[f('client/x.ts'), "import '../core/protocol.ts';\nimport * as v from 'valibot';"]])).toEqual([]);
  });

  it('[D1] src/ respects the house layering', () => {
    expect(check()).toEqual([]);
  });
});
