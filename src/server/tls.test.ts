/**
 * `attune serve --tls-cert/--tls-key` material: real certificates made with the machine's
 * openssl (a self-signed one, and a leaf signed by a local CA the way mkcert does it), real
 * mistakes, and a real HTTPS round trip that trusts only the local CA.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get, createServer as httpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer } from './createServer.ts';
import { loadTls, nameCovers, type TlsResult } from './tls.ts';

let dir: string;
const f = (name: string) => join(dir, name);
const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'attune-tls-'));
  // Self-signed, for localhost and 127.0.0.1.
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('self.key'), '-out', f('self.crt'), '-days', '30', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  // A local CA and a leaf it signs for a venue's LAN name and address (what mkcert does).
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '30', '-subj', '/CN=venue local CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=attune.local');
  writeFileSync(f('leaf.ext'), 'subjectAltName=DNS:attune.local,DNS:*.venue.lan,IP:127.0.0.1,IP:192.168.1.20\n');
  ssl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('leaf.crt'), '-days', '30', '-extfile', f('leaf.ext'));
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('other.key'));
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes-256-cbc', '-pass', 'pass:secret', '-out', f('encrypted.key'));
  for (const k of ['self.key', 'leaf.key', 'other.key', 'encrypted.key']) chmodSync(f(k), 0o600);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (r: TlsResult): string => (r.ok ? 'ok' : r.message);

describe('loadTls', () => {
  it('[TLS1] loads a CA-signed certificate, lists its names, warns about nothing when the public URL is covered', () => {
    const r = loadTls({ certPath: f('leaf.crt'), keyPath: f('leaf.key'), publicUrl: 'https://192.168.1.20:8787' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.names).toEqual(['attune.local', '*.venue.lan', '127.0.0.1', '192.168.1.20']);
    expect(r.value.selfSigned).toBe(false);
    expect(r.value.issuer).toContain('venue local CA');
    expect(r.value.warnings).toEqual([]);
    // Close to its end it says so.
    const late = loadTls({ certPath: f('leaf.crt'), keyPath: f('leaf.key'), now: r.value.validTo.getTime() - 86_400_000 });
    expect(late.ok && late.value.warnings).toEqual([`the certificate expires on ${r.value.validTo.toISOString()}, within 14 days`]);
  });

  it('[TLS1] warns when phones would refuse: a host the certificate does not name, plain http, self-signed, a key others can read', () => {
    copyFileSync(f('self.key'), f('open.key'));
    chmodSync(f('open.key'), 0o644);
    const r = loadTls({ certPath: f('self.crt'), keyPath: f('open.key'), publicUrl: 'http://192.168.1.20:8787' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.selfSigned).toBe(true);
    expect(r.value.warnings.join('\n')).toMatch(/names localhost, 127\.0\.0\.1, not 192\.168\.1\.20/);
    expect(r.value.warnings.join('\n')).toMatch(/not https/);
    expect(r.value.warnings.join('\n')).toMatch(/self-signed/);
    expect(r.value.warnings.join('\n')).toMatch(/readable by other users; chmod 600/);
  });

  it('[TLS2] says what is wrong, in words', () => {
    expect(failure(loadTls({ certPath: f('self.crt') }))).toMatch(/go together/);
    expect(failure(loadTls({ certPath: f('missing.crt'), keyPath: f('self.key') }))).toBe(`cannot read --tls-cert ${f('missing.crt')}: no such file`);
    expect(failure(loadTls({ certPath: dir, keyPath: f('self.key') }))).toMatch(/it is a directory/);
    expect(failure(loadTls({ certPath: f('self.key'), keyPath: f('self.crt') }))).toMatch(/swapped/);
    expect(failure(loadTls({ certPath: f('leaf.ext'), keyPath: f('self.key') }))).toMatch(/not a PEM certificate/);
    expect(failure(loadTls({ certPath: f('self.crt'), keyPath: f('self.crt') }))).toMatch(/not a PEM private key/);
    expect(failure(loadTls({ certPath: f('self.crt'), keyPath: f('encrypted.key') }))).toMatch(/encrypted with a passphrase/);
    expect(failure(loadTls({ certPath: f('self.crt'), keyPath: f('other.key') }))).toMatch(/does not belong to the certificate/);
    expect(failure(loadTls({ certPath: f('self.crt'), keyPath: f('self.key'), now: Date.now() + 60 * 86_400_000 }))).toMatch(/expired on/);
    expect(failure(loadTls({ certPath: f('self.crt'), keyPath: f('self.key'), now: Date.now() - 86_400_000 }))).toMatch(/not valid until .*clock/);
    writeFileSync(f('garbled.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(failure(loadTls({ certPath: f('garbled.crt'), keyPath: f('self.key') }))).toMatch(/could not be read as a certificate/);
  });

  it('[TLS3] the material serves HTTPS that a client trusting only the local CA accepts', async () => {
    const r = loadTls({ certPath: f('leaf.crt'), keyPath: f('leaf.key') });
    if (!r.ok) throw new Error(r.message);
    const server = httpsServer({ cert: r.value.cert, key: r.value.key }, (_q, res) => res.end('secure'));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const { port } = server.address() as AddressInfo;
    try {
      const body = await new Promise<string>((res, rej) => {
        get({ host: '127.0.0.1', port, path: '/', ca: readFileSync(f('ca.crt')), servername: 'attune.local' }, (m) => {
          let s = '';
          m.on('data', (c) => {
            s += c;
          });
          m.on('end', () => res(s));
        }).on('error', rej);
      });
      expect(body).toBe('secure');
      // Without the CA the same server is refused, as an untrusting phone would.
      await expect(new Promise((res, rej) => get({ host: '127.0.0.1', port, path: '/', servername: 'attune.local' }, res).on('error', rej))).rejects.toThrow(/certificate/);
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
    }
  });

  it('[TLS3] the whole server serves HTTPS and WSS with the material (createServer config.tls)', async () => {
    const r = loadTls({ certPath: f('leaf.crt'), keyPath: f('leaf.key') });
    if (!r.ok) throw new Error(r.message);
    const ca = readFileSync(f('ca.crt'));
    const server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null, minCohort: 1, tls: { cert: r.value.cert, key: r.value.key } });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        get(`${server.url}/api/nothing`, { ca }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(`${res.statusCode} ${b}`));
        }).on('error', reject);
      });
      expect(body).toMatch(/^404 .*NOT_FOUND/);
      const made = await server.host.createSpace({ name: 'secure' });
      if (!made.ok) throw new Error(made.message);
      const ws = new WebSocket(`${server.url.replace('https', 'wss')}/ws`, { ca });
      const welcome = await new Promise<{ t: string }>((resolve, reject) => {
        ws.on('open', () => ws.send(JSON.stringify({ t: 'join', code: made.value.space.code, role: 'display' })));
        ws.on('message', (d) => resolve(JSON.parse(String(d)) as { t: string }));
        ws.on('error', reject);
      });
      expect(welcome.t).toBe('welcome');
      ws.close();
    } finally {
      await server.close();
    }
  });

  it('wildcards cover one label only (RFC 6125 §6.4)', () => {
    expect(nameCovers('*.venue.lan', 'attune.venue.lan')).toBe(true);
    expect(nameCovers('*.venue.lan', 'a.b.venue.lan')).toBe(false);
    expect(nameCovers('*.venue.lan', 'venue.lan')).toBe(false);
    expect(nameCovers('192.168.1.20', '192.168.1.20')).toBe(true);
    expect(nameCovers('localhost', 'LOCALHOST')).toBe(true);
  });
});
