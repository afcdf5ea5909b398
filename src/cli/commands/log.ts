/**
 * `attune log key`: prints (creating on first use) the transparency log's verifier key, and
 * rotates or retires signing keys. See docs/transparency-log.md.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeHex } from '../../core/note/base64.ts';
import { DEFAULT_LOG_ORIGIN, defaultLogKeyPath, loadLogKeys, loadOrCreateLogKeys, retireLogKey, rotateLogKey } from '../../log/keyFile.ts';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';

const HELP = `Usage: attune log key [options]

Prints the transparency log's public verifier key (name+keyid+base64), one per line, primary
first. Auditors pin it: attune audit <url> --key <verifier-key>. If no signing key exists yet,
one is generated (as the server does on first start) and stored with mode 0600.

Options:
  --key PATH          the signing key file (default: $ATTUNE_DATA_DIR/log-key, else ./data/log-key)
  --data-dir DIR      directory holding log-key (overrides ATTUNE_DATA_DIR)
  --origin ORIGIN     name for a newly generated key = the checkpoint origin line, e.g.
                      attune.example.org/log (env ATTUNE_LOG_ORIGIN, default ${DEFAULT_LOG_ORIGIN})
  --rotate            add a new key; both keys sign until the old one is retired
  --retire KEYID      remove the key with this 8-hex-digit ID (after auditors re-pinned)
  -h, --help          show this help

Key rotation: 'attune log key --rotate', restart the server (both keys now sign every
checkpoint), publish the new verifier key, wait until auditors pinned it, then
'attune log key --retire <old id>' and restart.
`;

/** The `attune log` command. */
export const command: Command = {
  summary: 'print the transparency log verifier key; rotate signing keys',
  help: HELP,
  async run(argv: readonly string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        key: { type: 'string' },
        'data-dir': { type: 'string' },
        origin: { type: 'string' },
        rotate: { type: 'boolean' },
        retire: { type: 'string' },
      },
    });
    if (positionals[0] !== 'key' || positionals.length > 1) throw new UsageError("expected 'attune log key'");
    const env = values['data-dir'] !== undefined ? { ...io.env, ATTUNE_DATA_DIR: values['data-dir'] } : io.env;
    const path = values.key !== undefined ? resolve(io.cwd, values.key) : defaultLogKeyPath(env, io.cwd);
    const origin = values.origin ?? io.env.ATTUNE_LOG_ORIGIN ?? DEFAULT_LOG_ORIGIN;
    try {
      if (values.retire !== undefined) {
        if (!/^[0-9a-f]{8}$/.test(values.retire)) throw new UsageError('--retire takes an 8-hex-digit key ID');
        retireLogKey(path, values.retire);
        io.stderr.write(`retired key ${values.retire}; restart the server to stop signing with it\n`);
      } else if (values.rotate) {
        if (!existsSync(path)) throw new Error(`no key file at ${path} to rotate`);
        const added = rotateLogKey(path);
        io.stderr.write(`added key ${encodeHex(added.keyId)}; restart the server so that both keys sign\n`);
      } else {
        const { created } = loadOrCreateLogKeys({ path, origin });
        if (created) io.stderr.write(`generated a new signing key in ${path} (mode 0600)\n`);
      }
      for (const s of loadLogKeys(path)) io.stdout.write(`${s.verifierKey}\n`);
      return 0;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      io.stderr.write(`attune log: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
