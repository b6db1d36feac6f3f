// `tsrun daemon --log-api`: each request's JSON body and the JSON that answered it, under its line, so that a
// reader sees what `docker run` really asks (lesson 16). The CLI fills in every field of a body it knows, mostly
// empty; the empty ones are left out here. Nothing secret is printed: an environment variable shows its name only, and a
// login's password and tokens are hidden.
import type http from 'node:http';

/** What each request's JSON body was, and what JSON answered it (http.ts records both as it reads and sends them). */
export const transcript = { bodies: new WeakMap<http.IncomingMessage, unknown>(), answers: new WeakMap<http.ServerResponse, unknown>() };

/** Longest body printed, in characters; the rest is cut with "…". */
const MAX_SHOWN = 600;

// #region api-log
/** The lines under a request's own: "→" what the client sent, "←" what the daemon answered. */
export function apiLines(body: unknown, answer: unknown, status: number): string[] {
  const lines: string[] = [];
  const sent = compact(redact(body));
  if (sent !== undefined) lines.push(`  → ${shown(sent)}`);
  if (status === 101) lines.push('  ← 101: from here on, the connection is the stream (stdin in, output out)');
  else if (answer !== undefined) lines.push(`  ← ${shown(answer)}`); // whole: a StatusCode of 0 says something
  return lines;
}
// #endregion

/** Env values and a login's secrets replaced; everything else as sent. */
export function redact(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    return key === 'Env' ? value.map((entry) => (typeof entry === 'string' && entry.includes('=') ? `${entry.slice(0, entry.indexOf('='))}=…` : entry)) : value.map((item) => redact(item));
  }
  if (value === null || typeof value !== 'object') return SECRET_KEYS.has(key.toLowerCase()) && value !== '' ? '…' : value;
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redact(item, name)]));
}
const SECRET_KEYS = new Set(['password', 'identitytoken', 'registrytoken', 'auth']);

/** Without the fields that say nothing: null, "", false, 0, [] and {} (undefined when nothing is left). */
export function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((item) => compact(item) ?? item);
  if (value === null || value === '' || value === false || value === 0) return undefined;
  if (typeof value !== 'object') return value;
  const kept = Object.entries(value).map(([key, item]) => [key, compact(item)] as const).filter(([, item]) => item !== undefined);
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}
