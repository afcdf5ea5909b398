/**
 * What several route modules read off a request the same way: the bearer token, and a JSON body
 * (Content-Type checked, parse failures answered with the coded error).
 */
import type { Context } from 'hono';
import { errorResponse } from './app.ts';

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearer(c: Context): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  return m?.[1] ?? null;
}

/**
 * The parsed JSON body, or the coded error response (415 without a JSON content type, 400 for bad
 * JSON; `shape`, e.g. `{"with": "CODE"}`, is named in the 400's message). Every route that takes a
 * JSON body reads it here; the size is bounded before (the app's body limit).
 */
export async function readJsonBody(c: Context, shape?: string): Promise<{ readonly body: unknown } | Response> {
  if (!/^application\/json\s*(?:;|$)/i.test(c.req.header('content-type') ?? '')) return errorResponse(c, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
  try {
    return { body: await c.req.json() };
  } catch {
    return errorResponse(c, 'BAD_REQUEST', shape ? `body must be JSON: ${shape}` : 'body must be JSON');
  }
}
