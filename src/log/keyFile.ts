/**
 * The log's signing key file.
 *
 * One private key per line in golang.org/x/mod/sumdb/note format
 * (`PRIVATE+KEY+<name>+<hex8>+<base64>`), `#` comments allowed, mode 0600. Every key in the file
 * signs every checkpoint — that is how a key is rotated without breaking clients (signed-note
 * verifiers ignore signatures from keys they do not know): `rotateLogKey` adds a new key, both
 * sign while auditors re-pin, then `retireLogKey` removes the old one. The key name is the log's
 * origin (C2SP tlog-checkpoint: the key name should equal the origin).
 *
 * Default location: `$ATTUNE_DATA_DIR/log-key`, else `./data/log-key`.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { encodeHex } from '../core/note/base64.ts';
import { generateSignerKey, type NoteSigner, parseSignerKey } from './note.ts';

/** The origin (and key name) used when none is configured. Set it to your public URL, minus `https://`. */
export const DEFAULT_LOG_ORIGIN = 'attune.localhost/log';

/** Where the key file lives: `$ATTUNE_DATA_DIR/log-key`, else `<cwd>/data/log-key`. */
export function defaultLogKeyPath(env: NodeJS.ProcessEnv, cwd: string): string {
  const dir = env.ATTUNE_DATA_DIR !== undefined && env.ATTUNE_DATA_DIR !== '' ? resolve(cwd, env.ATTUNE_DATA_DIR) : join(cwd, 'data');
  return join(dir, 'log-key');
}

function writeKeyFile(path: string, lines: readonly string[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const text = `# attune transparency-log signing keys (every key signs; first is primary). Keep secret.\n${lines.join('\n')}\n`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600); // in case a umask or an existing file widened it
  renameSync(tmp, path);
}

function keyLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Reads the signers in a key file. Throws if the file is missing, readable by group or others
 * (like ssh, we refuse a key others can read: `chmod 600 <file>`), empty or malformed.
 */
export function loadLogKeys(path: string): NoteSigner[] {
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`log key file ${path} has mode ${mode.toString(8)}; it must not be readable by others (chmod 600 ${path})`);
    }
  }
  const signers = keyLines(path).map(parseSignerKey);
  if (signers.length === 0) throw new Error(`log key file ${path} holds no key`);
  return signers;
}

/**
 * Loads the key file, creating it with one fresh Ed25519 key named `origin` if it does not
 * exist (first start). `created` says whether a key was generated.
 */
export function loadOrCreateLogKeys(options: { readonly path: string; readonly origin?: string }): { signers: NoteSigner[]; created: boolean } {
  if (existsSync(options.path)) return { signers: loadLogKeys(options.path), created: false };
  const { signerKey } = generateSignerKey(options.origin ?? DEFAULT_LOG_ORIGIN);
  writeKeyFile(options.path, [signerKey]);
  return { signers: loadLogKeys(options.path), created: true };
}

/** Adds a fresh key (same name as the primary) in front of the existing ones; returns it. */
export function rotateLogKey(path: string): NoteSigner {
  const lines = keyLines(path);
  const current = loadLogKeys(path)[0] as NoteSigner;
  const { signerKey, signer } = generateSignerKey(current.name);
  writeKeyFile(path, [signerKey, ...lines]);
  return signer;
}

/** Removes the key whose 8-hex-digit ID is `keyIdHex`; refuses to remove the last key. */
export function retireLogKey(path: string, keyIdHex: string): void {
  const lines = keyLines(path);
  const keep = lines.filter((l) => encodeHex(parseSignerKey(l).keyId) !== keyIdHex);
  if (keep.length === lines.length) throw new Error(`no key with ID ${keyIdHex} in ${path}`);
  if (keep.length === 0) throw new Error('refusing to remove the only key; rotate first');
  writeKeyFile(path, keep);
}
