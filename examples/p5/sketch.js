// attune × p5.js: the room's released pulse over server-sent events (ARTISTS.md).
// Open examples/p5/index.html?server=http://127.0.0.1:8787&code=ABCD2345 in a browser
// (file:// works: the stream is public and sends Access-Control-Allow-Origin: *).
// Rehearse without a crowd: `npm run attune -- play --demo split2` prints a code to use.
const params = new URLSearchParams(location.search);
const server = params.get('server') ?? 'http://127.0.0.1:8787';
const code = params.get('code') ?? '';
let pulse = null; // the latest pulse (SPEC P6): count, suppressed, smoothed, quadrants, hist, collective …
let phase = 0;

if (code) {
  // EventSource reconnects by itself and resumes with Last-Event-ID (the pulse seq).
  const es = new EventSource(`${server}/api/spaces/${code}/stream`);
  es.addEventListener('pulse', (e) => {
    pulse = JSON.parse(e.data);
  });
  es.addEventListener('end', () => es.close());
}

function setup() {
  createCanvas(windowWidth, windowHeight);
  noStroke();
}

function windowResized() {
  resizeCanvas(windowWidth, windowHeight);
}

// The quadrant colours of attune's display: pleasant-energised, pleasant-calm, unpleasant-calm, unpleasant-energised.
const CORNERS = [
  [242, 165, 65],
  [63, 174, 149],
  [98, 121, 196],
  [224, 88, 77],
];

function mood(v, a) {
  const wv = (v + 1) / 2;
  const wa = (a + 1) / 2;
  const w = [wv * wa, wv * (1 - wa), (1 - wv) * (1 - wa), (1 - wv) * wa];
  return [0, 1, 2].map((i) => CORNERS.reduce((s, c, k) => s + c[i] * w[k], 0));
}

function draw() {
  background(12, 14, 19, 40);
  const size = min(width, height) * 0.9;
  const ox = (width - size) / 2;
  const oy = (height - size) / 2;
  if (!pulse || pulse.suppressed) {
    // Fewer than the minimum cohort: nothing may be shown, so breathe slowly.
    const b = 0.5 - 0.5 * cos((millis() / 6000) * TWO_PI);
    fill(180, 190, 215, 30 + 40 * b);
    circle(width / 2, height / 2, size * (0.3 + 0.08 * b));
    return;
  }
  // The released histogram: one glowing dot per cell, its size the cell's share.
  const n = pulse.bins;
  let max = 1e-6;
  for (const x of pulse.hist) max = Math.max(max, x);
  for (let i = 0; i < pulse.hist.length; i++) {
    const share = pulse.hist[i] / max;
    if (share < 0.02) continue;
    const ix = i % n;
    const iy = Math.floor(i / n);
    const v = ((ix + 0.5) / n) * 2 - 1;
    const a = ((iy + 0.5) / n) * 2 - 1;
    const [r, g, bl] = mood(v, a);
    fill(r, g, bl, 60 + 150 * share);
    circle(ox + (ix + 0.5) * (size / n), oy + size - (iy + 0.5) * (size / n), (size / n) * (0.4 + 1.4 * Math.sqrt(share)));
  }
  // The heartbeat: 48 bpm calm … 132 bpm energised, at the smoothed mean, in its colour.
  const s = pulse.smoothed;
  phase = (phase + (deltaTime / 60000) * (90 + 42 * s.arousal)) % 1;
  const beat = Math.exp(-((phase * 9) ** 2)) + 0.6 * Math.exp(-(((phase - 0.2) * 9) ** 2));
  const [r, g, bl] = mood(s.valence, s.arousal);
  fill(r, g, bl, 200);
  circle(ox + ((s.valence + 1) / 2) * size, oy + ((1 - s.arousal) / 2) * size, size * (0.05 + 0.05 * beat));
  fill(220);
  text(`${pulse.count} people · dissonance ${Math.round((pulse.collective?.dissonance?.score ?? 0) * 100)}%`, 12, 20);
}
