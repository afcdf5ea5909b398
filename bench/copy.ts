/**
 * `npm run bench:copy` — what the PostgreSQL writer's way of inserting a run of inputs (one
 * `INSERT … SELECT FROM unnest(arrays)`, SPEC S11) costs beside its alternatives, for one group
 * of N rows committed in one transaction into a table with the `inputs` table's indexes:
 *
 *   per-row pipelined   one INSERT per row, all sent at once on a pipelined connection
 *   unnest (baseline)   one INSERT … SELECT FROM unnest over column arrays (what the adapter does)
 *   COPY                COPY … FROM STDIN (text format) on a connection of its own — pg cannot
 *                       send COPY on a pipelined connection, and COPY cannot skip replayed seqs
 *                       or check event numbers, so the adapter would need a staging table and a
 *                       second statement on top of this (not counted here: COPY's floor)
 *
 * Raw inserts only (no seq rule, no participant update): the ratio is what matters. COPY needs
 * pg-copy-streams, which attune does not depend on: install it anywhere and pass its folder,
 *   npm i --prefix /tmp/pgcopy pg-copy-streams@7.0.0
 *   npm run bench:copy -- --copy-streams /tmp/pgcopy/node_modules/pg-copy-streams
 * Without it the COPY rows are skipped. Figures, never pass/fail.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,1000,5000' },
    reps: { type: 'string', default: '20' },
    'copy-streams': { type: 'string' },
    pg: { type: 'string', default: process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
  strict: true,
});
const PG = String(values.pg);
const SIZES = String(values.sizes).split(',').map(Number);
const REPS = Number(values.reps);
const log = (s: string) => process.stdout.write(`${s}\n`);

type CopyFrom = (sql: string) => NodeJS.WritableStream & { submit: unknown };
let copyFrom: CopyFrom | null = null;
if (values['copy-streams']) {
  const mod = (await import(pathToFileURL(`${values['copy-streams']}/index.js`).href)) as { from: CopyFrom; default?: { from: CopyFrom } };
  copyFrom = mod.from ?? mod.default?.from ?? null;
}

const schema = `attune_copy_${process.pid}`;
const opts = { connectionString: PG, options: `-c search_path=${schema}` };
const admin = new pg.Client({ connectionString: PG });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
await admin.query(`SET search_path = ${schema}`);
await admin.query(`CREATE TABLE inputs (
  id BIGINT GENERATED ALWAYS AS IDENTITY, space_id TEXT NOT NULL, participant_id TEXT NOT NULL, seq BIGINT NOT NULL,
  v DOUBLE PRECISION NOT NULL, a DOUBLE PRECISION NOT NULL, c DOUBLE PRECISION NOT NULL, src TEXT NOT NULL, at BIGINT NOT NULL,
  exposed BOOLEAN NOT NULL, n BIGINT, PRIMARY KEY (participant_id, seq));
CREATE INDEX inputs_space_at ON inputs(space_id, at, id);
CREATE UNIQUE INDEX inputs_space_n ON inputs(space_id, n) WHERE n IS NOT NULL;`);

const piped = new pg.Client({ ...opts, pipeline: true });
const plain = new pg.Client(opts);
await Promise.all([piped.connect(), plain.connect()]);

let seq = 0;
let n = 0;
interface Row {
  readonly p: string;
  readonly seq: number;
  readonly v: number;
  readonly at: number;
  readonly n: number;
}
const rowsOf = (size: number): Row[] => {
  seq++;
  return Array.from({ length: size }, (_, i) => ({ p: `p${i}`, seq, v: Math.sin(i), at: 1_700_000_000_000 + seq, n: ++n }));
};

const methods: Record<string, (rows: readonly Row[]) => Promise<void>> = {
  'per-row pipelined': async (rows) => {
    const qs = [piped.query('BEGIN'), ...rows.map((r) => piped.query("INSERT INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, n) VALUES ('a', $1, $2, $3, $3, 1, 'tap', $4, false, $5)", [r.p, r.seq, r.v, r.at, r.n])), piped.query('COMMIT')];
    await Promise.all(qs);
  },
  'unnest (baseline)': async (rows) => {
    await Promise.all([
      piped.query('BEGIN'),
      piped.query(
        "INSERT INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, n) SELECT 'a', p, s, v, v, 1, 'tap', at, false, n FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::bigint[], $5::bigint[]) AS r(p, s, v, at, n)",
        [rows.map((r) => r.p), rows.map((r) => r.seq), rows.map((r) => r.v), rows.map((r) => r.at), rows.map((r) => r.n)],
      ),
      piped.query('COMMIT'),
    ]);
  },
};
if (copyFrom) {
  const from = copyFrom;
  methods.COPY = async (rows) => {
    await plain.query('BEGIN');
    const stream = plain.query(from('COPY inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, n) FROM STDIN') as never) as unknown as NodeJS.WritableStream;
    const text = rows.map((r) => `a\t${r.p}\t${r.seq}\t${r.v}\t${r.v}\t1\ttap\t${r.at}\tf\t${r.n}\n`).join('');
    await pipeline(Readable.from([text]), stream);
    await plain.query('COMMIT');
  };
}

log(`bench:copy — one group of N input rows per transaction, ${REPS} groups each; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores${copyFrom ? '' : '; COPY skipped (no --copy-streams)'}`);
log(`${'rows/group'.padStart(10)} ${Object.keys(methods).map((m) => m.padStart(28)).join('')}`);
for (const size of SIZES) {
  const cells: string[] = [];
  let baseline = Number.NaN;
  const perMethod: [string, number][] = [];
  for (const [name, run] of Object.entries(methods)) {
    await run(rowsOf(size)); // warm
    const t0 = performance.now();
    for (let r = 0; r < REPS; r++) await run(rowsOf(size));
    const ms = (performance.now() - t0) / REPS;
    perMethod.push([name, ms]);
    if (name === 'unnest (baseline)') baseline = ms;
  }
  for (const [, ms] of perMethod) cells.push(`${ms.toFixed(2)} ms ${((size / ms) * 1000).toFixed(0)}/s ×${(baseline / ms).toFixed(2)}`.padStart(28));
  log(`${String(size).padStart(10)} ${cells.join('')}`);
}
log('(each cell: time per group, rows per second, speed relative to unnest in the same run)');

await Promise.all([piped.end(), plain.end()]);
await admin.query(`DROP SCHEMA ${schema} CASCADE`);
await admin.end();
