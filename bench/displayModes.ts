/**
 * Frame rate of every display mode in headless Chromium at 1920×1080, with a room of 10,000
 * people publishing at 20 Hz: a real server (createServer) whose space holds 10,000 in-process
 * participants moved by the simulator's `split2` scenario (camps, dissonance, alerts), its clock
 * driven in real time (50 ms every 50 ms) after a fast 100 s warm-up so the room has split (scenario `split2`, elated vs low).
 * For each mode: 8 s of requestAnimationFrame intervals after a 2 s settle; prints the median
 * and 5th-percentile frame rate beside `field` (today's view) as the baseline of the same run.
 * Never passes or fails on time. Also writes a 1280×720 screenshot of each mode to docs/img/.
 *
 *   npm run bench:display            (BENCH_DISPLAY_SECONDS, BENCH_DISPLAY_PEOPLE to change)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildWebIfNeeded } from '../src/cli/commands/serve.ts';
import { DISPLAY_MODES } from '../src/core/displayMode.ts';
import { createServer, REPO_ROOT } from '../src/server/createServer.ts';
import { Crowd } from '../src/sim/crowd.ts';
import { driveCrowdOnHost } from '../src/sim/hostCrowd.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';

const PEOPLE = Number(process.env.BENCH_DISPLAY_PEOPLE ?? 10_000);
const SECONDS = Number(process.env.BENCH_DISPLAY_SECONDS ?? 8);
const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: new AbortController().signal };
await buildWebIfNeeded(io);

const epoch = Date.now();
const scheduler = new ManualScheduler(epoch);
const server = await createServer({ port: 0, dbPath: ':memory:', capacity: PEOPLE + 10 }, { scheduler });
const made = await server.host.createSpace({ name: 'display bench', capacity: PEOPLE + 10, ttlSeconds: 120 });
if (!made.ok) throw new Error(made.message);
const { code, id } = made.value.space;
await driveCrowdOnHost({ host: server.host, scheduler, code, spaceId: id, crowd: new Crowd({ seed: 'display-bench', participants: PEOPLE, durationMs: 120_000, scenario: 'split2' }), epoch });
scheduler.advance(100_000);
// From now on the server's clock follows real time, 50 ms per 50 ms: pulses at 20 Hz.
const drive = setInterval(() => scheduler.advance(50), 50);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const shots = join(REPO_ROOT, 'docs', 'img');
mkdirSync(shots, { recursive: true });
const rows: { mode: string; median: number; p5: number; frames: number }[] = [];
for (const mode of DISPLAY_MODES) {
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  await page.goto(`${server.url}/d/${code}?mode=${mode}`);
  await page.waitForFunction((n) => document.querySelector('[data-testid=count]')?.textContent === String(n), PEOPLE, { timeout: 30_000 });
  const intervals = await page.evaluate(
    ({ settle, seconds }) =>
      new Promise<number[]>((resolve) => {
        const out: number[] = [];
        let last = 0;
        const start = performance.now();
        const f = (t: number) => {
          if (t - start > settle) {
            if (last) out.push(t - last);
            last = t;
          }
          if (t - start < settle + seconds * 1000) requestAnimationFrame(f);
          else resolve(out);
        };
        requestAnimationFrame(f);
      }),
    { settle: 2000, seconds: SECONDS },
  );
  const fps = intervals.map((ms) => 1000 / ms).sort((a, b) => a - b);
  rows.push({ mode, median: fps[Math.floor(fps.length / 2)] ?? 0, p5: fps[Math.floor(fps.length * 0.05)] ?? 0, frames: fps.length });
  const shot = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  await shot.goto(`${server.url}/d/${code}?mode=${mode}`);
  await shot.waitForFunction((n) => document.querySelector('[data-testid=count]')?.textContent === String(n), PEOPLE, { timeout: 30_000 });
  await shot.waitForTimeout(2500); // let the easing reach the room (a picture, not a measurement)
  await shot.screenshot({ path: join(shots, `display-${mode}.png`) });
  await shot.context().close();
  await page.context().close();
}
clearInterval(drive);
await browser.close();
await server.close();

const base = rows.find((r) => r.mode === 'field');
console.log(`display modes: ${PEOPLE} people, 20 Hz pulses, 1920×1080, headless Chromium (--disable-gpu), ${SECONDS} s per mode`);
console.log('mode          median fps   p5 fps   frames   median vs field');
for (const r of rows) console.log(`${r.mode.padEnd(13)} ${r.median.toFixed(1).padStart(10)} ${r.p5.toFixed(1).padStart(8)} ${String(r.frames).padStart(8)}   ${base ? (r.median / base.median).toFixed(2) : '–'}×`);
console.log(`screenshots (1280×720): ${shots}/display-<mode>.png`);
