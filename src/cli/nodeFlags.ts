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
 */

/** The flags `attune serve` adds, each `--name=value`. */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

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
  if (argv[0] !== 'serve' || argv.includes('--help') || argv.includes('-h')) return [];
  if (o.hasIpc || !o.canExec) return [];
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  return SERVE_NODE_FLAGS.filter((f) => !given.has(flagName(f)));
}
