/**
 * TLS material for `attune serve --tls-cert FILE --tls-key FILE`: reads the two PEM files and
 * checks them before the server listens, so a venue finds out at start-up — in words — what is
 * wrong, instead of phones failing with a browser's certificate page.
 *
 * Why attune needs it: Web Bluetooth (the heart-rate strap on the join page) works only in a
 * secure context, so phones must reach attune over HTTPS (`http://localhost` is the only
 * exception, and a phone is never localhost). docs/heart.md and the README say how a venue gets
 * a certificate its phones trust on a local network (a local CA such as mkcert's, or a reverse
 * proxy that terminates TLS).
 *
 * Checks, in order: both files given; readable; the certificate file holds a certificate (not
 * the key — swapped flags are named as such); the key is a private key and not encrypted with a
 * passphrase; the key belongs to the certificate; the certificate is valid now (`now` is an
 * argument); OpenSSL accepts the pair as a secure context. Warnings, which do not stop the
 * server: the public URL's host is not among the certificate's names (phones would refuse it),
 * the certificate is self-signed (phones trust it only once installed), it expires within 14
 * days, the key file is readable by others.
 *
 * The composition root passes `cert` and `key` to `https.createServer` (through
 * `createAdaptorServer({ createServer: https.createServer, serverOptions: { cert, key } })`).
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';

/** What to load. */
export interface TlsOptions {
  readonly certPath?: string;
  readonly keyPath?: string;
  /** The URL phones will open (the join QR code's); its host should be one of the certificate's names. */
  readonly publicUrl?: string;
  /** Epoch ms (default Date.now()). */
  readonly now?: number;
}

/** Checked TLS material, with what an operator should know about it. */
export interface TlsMaterial {
  /** PEM, as read (a full chain is kept whole). */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly subject: string;
  readonly issuer: string;
  /** DNS names and IP addresses the certificate covers (subjectAltName). */
  readonly names: readonly string[];
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly selfSigned: boolean;
  readonly warnings: readonly string[];
}

/** The helper's answer: material, or one sentence saying what to fix. */
export type TlsResult = { readonly ok: true; readonly value: TlsMaterial } | { readonly ok: false; readonly message: string };

const bad = (message: string): TlsResult => ({ ok: false, message });

function read(path: string, flag: string): Buffer | string {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    return `cannot read ${flag} ${path}: ${why}`;
  }
}

/** The names of a certificate's subjectAltName ("DNS:a, IP Address:1.2.3.4" → ["a", "1.2.3.4"]). */
export function certificateNames(x: X509Certificate): string[] {
  return (x.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.trim())
    .flatMap((s) => {
      const m = /^(DNS|IP Address):(.+)$/.exec(s);
      return m ? [(m[2] as string).toLowerCase()] : [];
    });
}

/** Whether a certificate name covers a host (RFC 6125 §6.4: one leading `*` label at most). */
export function nameCovers(name: string, host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (name === h) return true;
  if (!name.startsWith('*.') || isIP(h)) return false;
  const rest = name.slice(2);
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === rest;
}

/** Reads and checks `--tls-cert` and `--tls-key` (module header). */
export function loadTls(o: TlsOptions): TlsResult {
  if (!o.certPath && !o.keyPath) return bad('no TLS files given');
  if (!o.certPath || !o.keyPath) return bad('--tls-cert and --tls-key go together: give both (the certificate and its private key, PEM files)');
  const cert = read(o.certPath, '--tls-cert');
  if (typeof cert === 'string') return bad(cert);
  const key = read(o.keyPath, '--tls-key');
  if (typeof key === 'string') return bad(key);
  const certText = cert.toString('latin1');
  const keyText = key.toString('latin1');
  if (!certText.includes('-----BEGIN CERTIFICATE-----')) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certText) && keyText.includes('-----BEGIN CERTIFICATE-----')) return bad('--tls-cert holds a private key and --tls-key a certificate: the two flags are swapped');
    return bad(`--tls-cert ${o.certPath} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) return bad(`--tls-key ${o.keyPath} is encrypted with a passphrase; attune needs an unencrypted key file (mode 0600), as mkcert writes`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyText)) return bad(`--tls-key ${o.keyPath} is not a PEM private key (no "-----BEGIN … PRIVATE KEY-----" line)`);
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (e) {
    return bad(`--tls-cert ${o.certPath} could not be read as a certificate: ${(e as Error).message}`);
  }
  let k: KeyObject;
  try {
    k = createPrivateKey(key);
  } catch (e) {
    return bad(`--tls-key ${o.keyPath} could not be read as a private key: ${(e as Error).message}`);
  }
  if (!x.checkPrivateKey(k)) return bad(`--tls-key ${o.keyPath} does not belong to the certificate in --tls-cert ${o.certPath} (their public keys differ)`);
  const now = o.now ?? Date.now();
  const validFrom = new Date(x.validFrom);
  const validTo = new Date(x.validTo);
  if (now < validFrom.getTime()) return bad(`the certificate is not valid until ${validFrom.toISOString()} (check this machine's clock)`);
  if (now > validTo.getTime()) return bad(`the certificate expired on ${validTo.toISOString()}; make a new one (mkcert HOST, or your proxy's)`);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    return bad(`OpenSSL refused the certificate and key: ${(e as Error).message}`);
  }
  const names = certificateNames(x);
  const warnings: string[] = [];
  if (o.publicUrl) {
    let host: string | null = null;
    try {
      host = new URL(o.publicUrl).hostname;
    } catch {
      warnings.push(`the public URL ${o.publicUrl} is not a URL`);
    }
    if (host !== null && !names.some((n) => nameCovers(n, host))) warnings.push(`the certificate names ${names.length ? names.join(', ') : 'no host (no subjectAltName)'}, not ${host}: phones opening ${o.publicUrl} will refuse it — make one that includes ${host}`);
    if (host !== null && !o.publicUrl.startsWith('https:')) warnings.push(`the public URL ${o.publicUrl} is not https: the join QR code should point at https://${host}…`);
  }
  const selfSigned = x.checkIssued(x) && x.verify(x.publicKey);
  if (selfSigned) warnings.push('the certificate is self-signed: each phone must trust it by hand; a local CA (mkcert) is easier — install its root once per phone');
  if (validTo.getTime() - now < 14 * 86_400_000) warnings.push(`the certificate expires on ${validTo.toISOString()}, within 14 days`);
  try {
    if ((statSync(o.keyPath).mode & 0o077) !== 0) warnings.push(`--tls-key ${o.keyPath} is readable by other users; chmod 600 it`);
  } catch {
    // Read above; a race with its removal changes nothing here.
  }
  return { ok: true, value: { cert, key, subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), names, validFrom, validTo, selfSigned, warnings } };
}
