/**
 * `attune` — the command-line entry. Sub-commands live in `commands/<name>.ts` and are loaded
 * on demand so that `attune analyze` does not pay for the server's imports.
 */
import type { CliIO, Command } from './command.ts';
import { UsageError } from './command.ts';

/** Sub-command name → module loader. Order is the order of `attune --help`. */
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import('./commands/serve.ts'),
  space: () => import('./commands/space.ts'),
  analyze: () => import('./commands/analyze.ts'),
  emotionml: () => import('./commands/emotionml.ts'),
  simulate: () => import('./commands/simulate.ts'),
  replay: () => import('./commands/replay.ts'),
  play: () => import('./commands/play.ts'),
  log: () => import('./commands/log.ts'),
  audit: () => import('./commands/audit.ts'),
  council: () => import('./commands/council.ts'),
  policy: () => import('./commands/policy.ts'),
  privacy: () => import('./commands/privacy.ts'),
  load: () => import('./commands/load.ts'),
};

async function topHelp(): Promise<string> {
  const lines = ['Usage: attune <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    let summary = '';
    try {
      summary = (await load()).command.summary;
    } catch {
      summary = '(unavailable)';
    }
    lines.push(`  ${name.padEnd(10)} ${summary}`);
  }
  lines.push('', 'Run `attune <command> --help` for a command\'s options.');
  return `${lines.join('\n')}\n`;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(await topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write('attune 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`attune: unknown command '${name}'\n\n${await topHelp()}`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`attune ${name}: ${e.message}\nRun 'attune ${name} --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
}
