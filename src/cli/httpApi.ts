/**
 * The small HTTP client the council and policy commands share: one call to a running server's
 * API, coded errors printed as `CODE: message`.
 */
import type { CliIO } from './command.ts';

/** The server could not be reached at all. */
export class ServerUnreachable extends Error {}

/** One API call; resolves with the status and the parsed JSON body. */
export async function apiCall(io: CliIO, base: string, method: string, path: string, body?: unknown, token?: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  let r: Response;
  try {
    r = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.any([io.signal, AbortSignal.timeout(15_000)]),
    });
  } catch (e) {
    throw new ServerUnreachable(`could not reach attune at ${base} (${(e as Error).cause ?? (e as Error).message}). Is 'attune serve' running? Use --url to point elsewhere.`);
  }
  const text = await r.text();
  try {
    return { status: r.status, json: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: r.status, json: { error: { code: 'BAD_RESPONSE', message: `the server answered ${r.status} with non-JSON` } } };
  }
}

/** `CODE: message` of an API error body (with the position of a policy expression problem). */
export function apiErrorText(json: unknown): string {
  const e = (json as { error?: { code?: string; message?: string; position?: { start: number; end: number } } }).error;
  if (!e) return JSON.stringify(json);
  return `${e.code}: ${e.message}${e.position ? ` [characters ${e.position.start + 1}–${e.position.end}]` : ''}`;
}

/** The server's base URL from --url or ATTUNE_URL. */
export function baseUrl(io: CliIO, url: string | undefined): string {
  const base = (url ?? io.env.ATTUNE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw new RangeError(`--url must be an http(s) URL, got '${base}'`);
  return base;
}
