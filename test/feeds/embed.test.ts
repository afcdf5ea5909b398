/**
 * The embeddable display: a steward's allow-list becomes the display page's CSP
 * `frame-ancestors`; a malformed origin (one that would inject into the policy) is refused; with
 * no list a display may be framed by any site, and other pages never.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pagePolicy } from '../../src/http/securityHeaders.ts';
import { createServer, type RunningServer } from '../../src/server/createServer.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await createServer({ port: 0, dbPath: ':memory:', webRoot: null });
});
afterAll(async () => {
  await server?.close();
});

describe('embedding the display', () => {
  it('[F4] the steward allow-list is the display page’s frame-ancestors', async () => {
    const made = await server.host.createSpace({ name: 'embed' });
    if (!made.ok) throw new Error(made.message);
    const { code } = made.value.space;
    const api = `${server.url}/api/spaces/${code}/embed`;
    const auth = { authorization: `Bearer ${made.value.stewardToken}`, 'content-type': 'application/json' };
    expect((await fetch(api, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ origins: ['https://venue.example'] }) })).status).toBe(401);
    const bad = await fetch(api, { method: 'PUT', headers: auth, body: JSON.stringify({ origins: ["https://x.example; script-src 'unsafe-inline'"] }) });
    expect(bad.status).toBe(400);
    const ok = await fetch(api, { method: 'PUT', headers: auth, body: JSON.stringify({ origins: ['https://venue.example', 'http://192.168.1.20:8080'] }) });
    expect(await ok.json()).toEqual({ origins: ['https://venue.example', 'http://192.168.1.20:8080'] });
    // webRoot is null here, so the page itself is a 404, but its headers are the page's.
    const page = await fetch(`${server.url}/d/${code}`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://venue.example http://192.168.1.20:8080");
    expect(page.headers.get('x-frame-options')).toBeNull();
    const other = await fetch(`${server.url}/d/ZZZZZZZZ`);
    expect(other.headers.get('content-security-policy')).not.toContain('frame-ancestors');
    expect((await fetch(`${server.url}/s/${code}`)).headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('[F4] the policy without a list leaves displays frameable', () => {
    expect(pagePolicy({ path: '/d/ABCD2345', host: 'h', tls: false })).not.toContain('frame-ancestors');
    expect(pagePolicy({ path: '/d/ABCD2345', host: 'h', tls: false, frameAncestors: ['https://a.example'] })).toContain("frame-ancestors 'self' https://a.example");
  });
});
