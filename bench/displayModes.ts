/**
 * Frame rate of every display mode in headless Chromium at 1920×1080, with a room of 10,000
 * people publishing at 20 Hz: a real server (createServer) whose space holds 10,000 in-process
 * participants moved by the simulator's `split2` scenario (camps, dissonance, alerts), its clock
 * driven in real time (50 ms every 50 ms) after a fast 100 s warm-up so the room has split (scenario `split2`, elated vs low).
 * For each mode, 8 s of requestAnimationFrame intervals after a 2 s settle: median and
 * 5th-percentile frame rate (beside `field`, today's view, as the baseline of the same run),
 * frames over 20 ms, the CPU the whole browser used per frame (CDP SystemInfo: time on a core,
 * which contention does not inflate), the renderer's main-thread time (CDP Performance
 * metrics), long animation frames, layout shift (CLS), garbage collections seen on slow frames,
 * the load average and this process's CPU (the server and its people) — so a slow run shows
 * whether the display or the machine was short. Never passes or fails on time. Also writes a
 * 1280×720 screenshot of each mode to docs/img/.
 *
 *   npm run bench:display    (BENCH_DISPLAY_SECONDS, BENCH_DISPLAY_PEOPLE; BENCH_DISPLAY_BURN=N
 *                             adds N busy threads, a neighbour that takes cores;
 *                             BENCH_DISPLAY_WEB_ROOT serves another build of web/, to compare two)
 */
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { chromium } from 'playwright-core';
import { buildWebIfNeeded } from '../src/cli/commands/serve.ts';
import { DISPLAY_MODES } from '../src/core/displayMode.ts';
import { createServer, REPO_ROOT } from '../src/server/createServer.ts';
import { Crowd } from '../src/sim/crowd.ts';
import { driveCrowdOnHost } from '../src/sim/hostCrowd.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/support/chromium.ts';

const PEOPLE = Number(process.env.BENCH_DISPLAY_PEOPLE ?? 10_000);
const SECONDS = Number(process.env.BENCH_DISPLAY_SECONDS ?? 8);
const BURN = Number(process.env.BENCH_DISPLAY_BURN ?? 0);
const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: new AbortController().signal };
await buildWebIfNeeded(io);

const epoch = Date.now();
const scheduler = new ManualScheduler(epoch);
const webRoot = process.env.BENCH_DISPLAY_WEB_ROOT ?? join(REPO_ROOT, 'web', 'dist');
const server = await createServer({ port: 0, dbPath: ':memory:', capacity: PEOPLE + 10, webRoot }, { scheduler });
const made = await server.host.createSpace({ name: 'display bench', capacity: PEOPLE + 10, ttlSeconds: 120 });
if (!made.ok) throw new Error(made.message);
const { code, id } = made.value.space;
await driveCrowdOnHost({ host: server.host, scheduler, code, spaceId: id, crowd: new Crowd({ seed: 'display-bench', participants: PEOPLE, durationMs: 120_000, scenario: 'split2' }), epoch });
scheduler.advance(100_000);
// From now on the server's clock follows real time, 50 ms per 50 ms: pulses at 20 Hz.
const drive = setInterval(() => scheduler.advance(50), 50);

// The browser tests' binary and flags; precise heap figures for the GC count.
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'] });
const shots = join(REPO_ROOT, 'docs', 'img');
mkdirSync(shots, { recursive: true });
/** What one mode's window measured. */
interface Row {
  mode: string;
  median: number;
  p5: number;
  frames: number;
  /** Frames over 20 ms (a missed vsync at 60 Hz). */
  slow: number;
  /** Main-thread ms per second of the window (CDP Performance metrics). */
  scriptMs: number;
  layoutMs: number;
  styleMs: number;
  taskMs: number;
  /** Long animation frames (≥ 50 ms, LoAF) and their longest. */
  loaf: number;
  loafMaxMs: number;
  /** Cumulative layout shift over the window. */
  cls: number;
  /** Garbage collections seen (falls of the used heap), those on a slow frame, and heap growth between them (KB/s). */
  gcs: number;
  slowGcs: number;
  allocKbPerS: number;
  /** Load average (1 min) at the end of the window, and this process's CPU share during it (the server and its 10,000 people). */
  load1: number;
  serverCpu: number;
  /** CPU ms the whole browser used per frame delivered (see browserCpuSeconds). */
  cpuMsPerFrame: number;
}
const rows: Row[] = [];
const cdpBrowser = await browser.newBrowserCDPSession();
// A neighbour that wants whole cores (busy threads at this process's priority).
const burners = Array.from({ length: BURN }, () => new Worker('for (;;) {}', { eval: true }));
for (const mode of DISPLAY_MODES) {
  rows.push(await measure(mode));
  const shot = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  await shot.goto(`${server.url}/d/${code}?mode=${mode}`);
  await shot.waitForFunction((n) => document.querySelector('[data-testid=count]')?.textContent === String(n), PEOPLE, { timeout: 30_000 });
  await shot.waitForTimeout(2500); // let the easing reach the room (a picture, not a measurement)
  await shot.screenshot({ path: join(shots, `display-${mode}.png`) });
  await shot.context().close();
}
for (const b of burners) await b.terminate();

/** One mode: a 1920×1080 page measured for SECONDS after a 2 s settle. */
async function measure(mode: string): Promise<Row> {
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  await page.goto(`${server.url}/d/${code}?mode=${mode}`);
  await page.waitForFunction((n) => document.querySelector('[data-testid=count]')?.textContent === String(n), PEOPLE, { timeout: 30_000 });
  await page.waitForTimeout(2000); // settle
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries(((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
  const before = await metrics();
  const browserCpu0 = await browserCpuSeconds();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const measured = await page.evaluate(
    ({ seconds }) =>
      new Promise<{ intervals: number[]; loaf: number[]; cls: number; gcs: number; slowGcs: number; allocKbPerS: number }>((resolve) => {
        const out: number[] = [];
        // A fall of the used JS heap between two frames is a garbage collection (Chromium's
        // performance.memory): counted, and counted again when that frame was slow.
        const heap = () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
        let lastHeap = heap();
        let gcs = 0;
        let slowGcs = 0;
        let grown = 0;
        const loaf: number[] = [];
        let cls = 0;
        const obs = [
          new PerformanceObserver((l) => {
            for (const e of l.getEntries()) loaf.push(e.duration);
          }),
          new PerformanceObserver((l) => {
            for (const e of l.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) if (!e.hadRecentInput) cls += e.value;
          }),
        ];
        try {
          obs[0]?.observe({ type: 'long-animation-frame' });
        } catch {}
        obs[1]?.observe({ type: 'layout-shift' });
        let last = 0;
        const start = performance.now();
        const f = (t: number) => {
          if (last) out.push(t - last);
          const h = heap();
          if (h < lastHeap) {
            gcs++;
            if (last && t - last > 20) slowGcs++;
          } else grown += h - lastHeap;
          lastHeap = h;
          last = t;
          if (t - start < seconds * 1000) requestAnimationFrame(f);
          else {
            for (const o of obs) o.disconnect();
            resolve({ intervals: out, loaf, cls, gcs, slowGcs, allocKbPerS: grown / 1024 / seconds });
          }
        };
        requestAnimationFrame(f);
      }),
    { seconds: SECONDS },
  );
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const after = await metrics();
  const browserCpu = (await browserCpuSeconds()) - browserCpu0;
  const perSec = (k: string) => (((after[k] ?? 0) - (before[k] ?? 0)) * 1000 * 1000) / wall; // CDP durations are seconds
  const intervals = measured.intervals;
  const fps = intervals.map((ms) => 1000 / ms).sort((a, b) => a - b);
  await page.context().close();
  return {
    mode,
    median: fps[Math.floor(fps.length / 2)] ?? 0,
    p5: fps[Math.floor(fps.length * 0.05)] ?? 0,
    frames: fps.length,
    slow: intervals.filter((ms) => ms > 20).length,
    scriptMs: perSec('ScriptDuration'),
    layoutMs: perSec('LayoutDuration'),
    styleMs: perSec('RecalcStyleDuration'),
    taskMs: perSec('TaskDuration'),
    loaf: measured.loaf.length,
    loafMaxMs: Math.max(0, ...measured.loaf),
    cls: measured.cls,
    gcs: measured.gcs,
    slowGcs: measured.slowGcs,
    allocKbPerS: measured.allocKbPerS,
    load1: loadavg()[0] ?? 0,
    serverCpu: (cpu.user + cpu.system) / 1000 / wall,
    cpuMsPerFrame: (browserCpu * 1000) / Math.max(1, intervals.length),
  };
}

/**
 * CPU seconds used so far by every process of the browser (renderer, GPU/compositor, browser),
 * from CDP SystemInfo: time on a core, whatever else the machine runs — the display's cost that
 * contention does not inflate (only one page is open while a window is measured).
 */
async function browserCpuSeconds(): Promise<number> {
  const info = (await cdpBrowser.send('SystemInfo.getProcessInfo')) as { processInfo: { cpuTime: number }[] };
  return info.processInfo.reduce((sum, p) => sum + p.cpuTime, 0);
}
clearInterval(drive);
await browser.close();
await server.close();

console.log(`display modes: ${PEOPLE} people, 20 Hz pulses, 1920×1080, headless Chromium (--disable-gpu), ${SECONDS} s per mode; web ${webRoot}; ${cpus().length} cores, ${BURN} busy neighbour thread(s), load ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`);
console.log('mode          median fps  p5 fps  frames  >20ms  p5 vs field  CPU ms/frame  main thread ms/s: task script layout style   LoAF (max ms)  CLS     GCs (on slow)  alloc KB/s  load1  server CPU');
const base = rows.find((b) => b.mode === 'field');
for (const r of rows) {
  console.log(
    `${r.mode.padEnd(13)} ${r.median.toFixed(1).padStart(10)} ${r.p5.toFixed(1).padStart(7)} ${String(r.frames).padStart(7)} ${String(r.slow).padStart(6)}  ${base ? (r.p5 / base.p5).toFixed(2) : '–'}×        ${r.cpuMsPerFrame.toFixed(1).padStart(11)}   ${r.taskMs.toFixed(0).padStart(4)} ${r.scriptMs.toFixed(0).padStart(6)} ${r.layoutMs.toFixed(1).padStart(6)} ${r.styleMs.toFixed(1).padStart(5)}   ${String(r.loaf).padStart(5)} (${r.loafMaxMs.toFixed(0)})   ${r.cls.toFixed(4)}  ${String(r.gcs).padStart(5)} (${r.slowGcs})   ${r.allocKbPerS.toFixed(0).padStart(8)}    ${r.load1.toFixed(2).padStart(5)}  ${(100 * r.serverCpu).toFixed(0)}%`,
  );
}
console.log(`screenshots (1280×720): ${shots}/display-<mode>.png`);
