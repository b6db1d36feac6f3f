// What every answer of the daemon has in common: the headers dockerd sends, JSON bodies, and errors the way
// the docker CLI reads them: {"message": …} with Content-Type exactly application/json (with "; charset=utf-8"
// the CLI prints the raw JSON instead), and a status code it acts on: a 404 from create is what makes
// `docker run` pull the image, a 404 from inspect what makes it try the next kind of object.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Runtime } from '../runtime.js';
import type { Runs } from './runs.js';
import type { Execs } from './execs.js';
import type { Events } from './events.js';
import { TsrunError, errorText, hasErrorCode } from '../errors.js';
import { parseFilters, type Filters } from '../docker/filters.js';
import { transcript } from './api-log.js';

/** The API version tsrun speaks. Below 1.30 the CLI's `run` waits for the exit through the events API instead of
 *  /wait?condition=, so the version must be sent on /_ping; above 1.41 the CLI adds fields tsrun does not read. */
export const API_VERSION = '1.41';

/** Largest request body read (a create body is about 2 kB). */
const MAX_BODY_BYTES = 1024 * 1024;

/** What a handler is given: the request, its answer, and the daemon's state. */
export interface DaemonRequest {
  runtime: Runtime;
  runs: Runs;
  execs: Execs;
  /** What the daemon did, told to `docker events`. */
  events: Events;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The path's parts named in its route: {id} … */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the client goes away, or the daemon stops: long answers (wait, logs -f) end then. */
  signal: AbortSignal;
}

/** A request whose connection is taken over (hijacked) after its 101 answer: attach, and an exec's start. */
export interface HijackedRequest extends Omit<DaemonRequest, 'res'> {
  socket: Duplex;
  /** Bytes the client sent after the request's headers: stdin may come before anything is answered. */
  head: Buffer;
  /** Answer `101 UPGRADED`: from then on the socket is a raw stream both ways. Before it, an error is a plain answer. */
  upgrade(): void;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
export const badRequest = (message: string) => new ApiError(400, message);

// #region error-status
/** The status of an error: an ApiError's own; a command that cannot be started (exit 127 or 126 on the command
 *  line) is the request's fault, 400, as dockerd answers a failed start; anything else failed in the daemon. */
export function statusOf(error: unknown): number {
  if (error instanceof ApiError) return error.status;
  if (error instanceof TsrunError && error.kind !== 'runtime') return 400;
  return 500;
}
// #endregion

/** What the CLI prints after "Error response from daemon: ". A TsrunError keeps its hint; a start error keeps
 *  its words (`executable file not found`, `permission denied`), from which `docker run` exits 127 or 126. */
export function messageOf(error: unknown): string {
  if (error instanceof TsrunError && error.hint) return `${error.message} — ${error.hint}`;
  return errorText(error);
}

/** The headers dockerd puts on every answer (the CLI reads them only on /_ping). */
export function commonHeaders(version: string): Record<string, string> {
  return { 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', 'Ostype': 'linux', 'Server': `tsrun/${version} (linux)` };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  transcript.answers.set(res, body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The JSON body of an answer whose headers went ahead of it (a wait's). */
export function endJson(res: http.ServerResponse, body: unknown): void {
  transcript.answers.set(res, body);
  res.end(JSON.stringify(body) + '\n');
}

/** 204 No Content, 304 Not Modified (a start of a started container, a stop of a stopped one), or a 200 or 201
 *  with an empty body, as dockerd answers a resize, a detached exec start, a network connect or a tag. */
export function sendEmpty(res: http.ServerResponse, status: 200 | 201 | 204 | 304): void {
  res.writeHead(status, status === 200 || status === 201 ? { 'Content-Length': 0 } : {});
  res.end();
}

/** One message of a stream of JSON (a pull's progress, a build's), ended with CRLF as dockerd ends each. */
export function writeJsonLine(res: http.ServerResponse, message: object): void {
  res.write(JSON.stringify(message) + '\r\n');
}

export function sendError(res: http.ServerResponse, error: unknown): void {
  sendJson(res, statusOf(error), { message: messageOf(error) });
}

/** The same error, written on a socket that has no ServerResponse (an attach that was to be hijacked). */
export function errorResponseText(error: unknown, headers: Record<string, string>): string {
  const body = JSON.stringify({ message: messageOf(error) }) + '\n';
  const status = statusOf(error);
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`,
    ...Object.entries(headers).map(([key, value]) => `${key}: ${value}`),
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

/** The request's JSON body; {} when it has none (the CLI sends `Content-Length: 0` on most POSTs). */
export async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const body: unknown = JSON.parse(text);
    transcript.bodies.set(req, body);
    return body;
  } catch (error) {
    throw badRequest(`the request body is not JSON: ${(error as Error).message}`);
  }
}

const tooLarge = () => new ApiError(413, `the request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);

/** A query parameter as a boolean, the way dockerd reads one: 1, true, True … are true. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value !== null && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** What tsrun refuses in a request (a bad signal, an ambiguous id prefix, a network that does not exist) is the
 *  request's fault: 400, not 500; a removal refused because something uses the object (code IN_USE) is `inUse`,
 *  dockerd's status for that object's conflict. */
export async function asBadRequest<T>(work: () => T | Promise<T>, inUse = 400): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (hasErrorCode(error, 'IN_USE')) throw new ApiError(inUse, messageOf(error));
    throw error instanceof TsrunError && error.kind === 'runtime' ? badRequest(messageOf(error)) : error;
  }
}

/** ?filters={"label":{"x":true}}, by key. A key dockerd does not know is its 400, in its words; one it knows
 *  that tsrun does not filter by yet is refused too, rather than ignored (a listing or a prune of more than was
 *  asked). None, or {}, is what the CLI sends without --filter. */
export function filtersIn(query: URLSearchParams, what: string, served: string[], knownToDocker: string[] = served): Filters {
  let filters: Filters;
  try {
    filters = parseFilters(query.get('filters'));
  } catch (error) {
    throw badRequest(messageOf(error));
  }
  for (const key of Object.keys(filters)) {
    if (!knownToDocker.includes(key)) throw badRequest(`Invalid filter '${key}'`);
    if (!served.includes(key)) throw badRequest(`tsrun's daemon does not filter ${what} by ${key} yet`);
  }
  return filters;
}

/** A filter's value that is not one it can take: dockerd's 400, in its words. */
export const invalidFilter = (key: string, value: string) => badRequest(`Invalid filter '${key}=${value}'`);

/** dangling=true or dangling=false (1 and 0 too, as dockerd reads a boolean); undefined when not asked. */
export function danglingFilter(filters: Filters): boolean | undefined {
  const values = filters.dangling;
  if (values === undefined) return undefined;
  if (values.length !== 1 || !['true', 'false', '1', '0'].includes(values[0]!)) throw invalidFilter('dangling', values.join(','));
  return ['true', '1'].includes(values[0]!);
}
