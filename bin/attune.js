#!/usr/bin/env node
// attune's launcher. The code is TypeScript run by Node ≥ 24's type stripping; when started
// by an older Node (e.g. a system Node 20 outside npm scripts) it re-runs itself on the Node 24
// that `npm install` put in node_modules. For `attune serve` it adds Node's flags (below).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const local = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(local)) {
    process.stderr.write(`attune needs Node.js >= 24 (this is ${process.version}); run 'npm install' first.\n`);
    process.exit(1);
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

// `attune serve` runs with a capped young generation and four malloc arenas unless the operator
// chose otherwise (src/cli/nodeFlags.ts): V8 and glibc read them only at start, so the launcher
// re-executes itself.
const { serveRelaunch } = await import('../src/cli/nodeFlags.ts');
const add = serveRelaunch(process.argv.slice(2), process.execArgv, process.env, { hasIpc: process.channel !== undefined, canExec: typeof process.execve === 'function' });
if (add.flags.length > 0 || Object.keys(add.env).length > 0) process.execve(process.execPath, [process.execPath, ...process.execArgv, ...add.flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { ...process.env, ...add.env });

const { main } = await import('../src/cli/main.ts');
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => controller.abort(new Error(sig)));
}
const io = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
};
try {
  const code = await main(process.argv.slice(2), io);
  process.exitCode = code;
} catch (e) {
  process.stderr.write(`attune: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
