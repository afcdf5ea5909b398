/**
 * The Node (V8) flags `attune serve` runs with by default, and when the launcher (bin/attune.js)
 * re-executes itself to apply them.
 *
 * `--max-semi-space-size=16`: V8 grows its young generation under allocation pressure — a
 * server fanning pulses out to thousands of sockets allocates a lot of short-lived garbage — up
 * to 64 MiB a semi-space here (≈ 128 MiB committed), and keeps it while the pressure lasts. Capped
 * at 16 MiB (32 MiB committed), a node of 10,000 people holds ≈ 90 MiB less (DEPLOY.md, "Memory
 * per participant", for the figures and the CPU they cost). V8 reads the flag only when it sets
 * up its heap, so it has to be on the command line: the launcher re-executes itself with it
 * (`process.execve`: the same process, same pid and standard streams, no parent left behind).
 *
 * An operator's own choice wins: a flag of the same name in `NODE_OPTIONS` or on node's command
 * line is left alone (`NODE_OPTIONS=--max-semi-space-size=64` gives V8's own sizing back).
 *
 * `MALLOC_ARENA_MAX=4` (environment, read by glibc when the process starts): glibc gives each
 * thread that mallocs its own arena, up to 8 × cores (16 here). A server's threads — V8's GC
 * helpers, the SQLite writer and checkpointer, libuv's pool — each keep what they freed resident
 * in their own arena. With four they share them: 1–17 MiB less RSS at 10,000 people in five
 * paired runs, at no CPU cost the join storm shows; two arenas cost ≈ 12 % more server CPU per
 * join (likely the threads waiting on the arenas' locks), so not two (DEPLOY.md, "Memory per participant").
 * An operator's own `MALLOC_ARENA_MAX`, or a `glibc.malloc.arena_max` in `GLIBC_TUNABLES`, wins;
 * other C libraries (musl) ignore it.
 */

/** The flags `attune serve` adds, each `--name=value`. */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

/** The environment `attune serve` adds, each only where the operator set nothing of that name. */
export const SERVE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '4' };

/** The glibc tunable each of {@link SERVE_ENV}'s variables stands for (`GLIBC_TUNABLES` may set it instead). */
const TUNABLE_OF: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: 'glibc.malloc.arena_max' };

/** Whether `argv` (the arguments after `attune`) starts a server: `serve`, not its `--help`. */
function serves(argv: readonly string[]): boolean {
  return argv[0] === 'serve' && !argv.includes('--help') && !argv.includes('-h');
}

/** A flag's name as Node reads it (`--max_semi_space_size=8` and `--max-semi-space-size 8` alike). */
function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq < 0 ? arg : arg.slice(0, eq)).replaceAll('_', '-');
}

/**
 * The flags to re-execute with for the command `argv` (the arguments after `attune`), or none:
 * only for `serve` (not its `--help`), only flags not already given in `execArgv` or
 * `nodeOptions`, and none when the process has an IPC channel (a parent that forked it talks to
 * it over a file descriptor that does not survive exec) or cannot exec (`canExec`: Windows has
 * no `process.execve`).
 */
export function serveRelaunchFlags(argv: readonly string[], execArgv: readonly string[], nodeOptions: string, o: { readonly hasIpc: boolean; readonly canExec: boolean }): string[] {
  if (!serves(argv) || o.hasIpc || !o.canExec) return [];
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  return SERVE_NODE_FLAGS.filter((f) => !given.has(flagName(f)));
}

/**
 * The environment variables to re-execute with for the command `argv` (see {@link SERVE_ENV}), or
 * none: under the same conditions as {@link serveRelaunchFlags}, and only variables the operator
 * has not set (an empty value counts as set), directly or as a glibc tunable.
 */
export function serveRelaunchEnv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, o: { readonly hasIpc: boolean; readonly canExec: boolean }): Record<string, string> {
  if (!serves(argv) || o.hasIpc || !o.canExec) return {};
  const tunables = env.GLIBC_TUNABLES ?? '';
  const add: Record<string, string> = {};
  for (const [name, value] of Object.entries(SERVE_ENV)) {
    const tunable = TUNABLE_OF[name];
    if (env[name] === undefined && !(tunable && tunables.split(':').some((t) => t.startsWith(`${tunable}=`)))) add[name] = value;
  }
  return add;
}

/** What `attune serve` is to run with that its process does not have yet. */
export interface ServeLaunch {
  /** Node flags, before the script. */
  readonly flags: string[];
  /** Environment variables, over the process's own. */
  readonly env: Record<string, string>;
}

/**
 * Both of the above for one process about to run `argv` with `execArgv` and `env` (its
 * `NODE_OPTIONS` read from there): what bin/attune.js re-executes itself with.
 */
export function serveRelaunch(argv: readonly string[], execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>, o: { readonly hasIpc: boolean; readonly canExec: boolean }): ServeLaunch {
  return { flags: serveRelaunchFlags(argv, execArgv, env.NODE_OPTIONS ?? '', o), env: serveRelaunchEnv(argv, env, o) };
}

/**
 * The same for a `serve` a parent spawns with an IPC channel (a bench's probe), which the launcher
 * never re-executes: the parent gives it the flags and environment up front, so it runs as an
 * `attune serve` started by hand does.
 */
export function serveLaunchForChild(execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>): ServeLaunch {
  return serveRelaunch(['serve'], execArgv, env, { hasIpc: false, canExec: true });
}
