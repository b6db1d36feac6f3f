// The client half of the Docker Engine API, on Node's own http: what `tsrun` sends when a daemon is named
// (host.ts), the way the docker CLI sends it (/work/shared/reference/docker-engine-api/README.md). One ping
// first, whose Api-Version header settles the version every later path starts with; JSON both ways; an error
// answer, {"message": …}, becomes a TsrunError, which main() prints and exits 125 on, as for a daemonless
// command; and the hijacked connection of an attach or an exec, which after its 101 carries raw bytes.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { TsrunError, errorText, fail, type ErrorKind } from '../../errors.js';
import { DAEMONLESS_HINT, type DaemonAddress } from './host.js';

/** The newest API version tsrun's client speaks: its daemon's (src/daemon/http.ts). */
const CLIENT_API_VERSION = '1.41';
/** What the docker CLI assumes of a daemon whose ping has no Api-Version header. */
const OLDEST_API_VERSION = '1.24';

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A container's start: an error's words tell whether its command was not found (127) or not executable (126). */
  starting?: boolean;
}

export class DaemonClient {
  /** "/v1.41": the version both ends speak, in front of every path after the ping. */
  private prefix = '';

  private constructor(readonly address: DaemonAddress) {}

  /** A client of the daemon at `address`, after its ping: the lower of its API version and ours is the one used. */
  static async connect(address: DaemonAddress): Promise<DaemonClient> {
    const client = new DaemonClient(address);
    // The docker CLI's one HEAD /_ping; a daemon that does not take HEAD is asked again with GET.
    let ping = await client.send('HEAD', '/_ping');
    if (ping.statusCode !== 200 && ping.statusCode !== 500) ping = await client.send('GET', '/_ping');
    ping.resume();
    if (ping.statusCode !== 200) throw fail(`the daemon at ${address.text} answered its ping with ${ping.statusCode}`, 'is it a Docker Engine API?');
    const offered = ping.headers['api-version'];
    client.prefix = `/v${lowerVersion(typeof offered === 'string' ? offered : OLDEST_API_VERSION, CLIENT_API_VERSION)}`;
    return client;
  }

  /** The answer once its headers have come; an error status is thrown as the daemon's message. */
  async call(method: string, path: string, options: CallOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(method, this.prefix + path + queryString(options.query), options.body);
    if (res.statusCode! >= 400) throw daemonError(res.statusCode!, await readText(res), options.starting);
    return res;
  }

  /** A call whose answer is JSON (undefined for an empty body: 204, 304). */
  async json<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const text = await readText(await this.call(method, path, options));
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** POST with `Upgrade: tcp`: after the daemon's 101 the connection is a raw stream both ways (attach, exec start). */
  hijack(path: string, options: CallOptions = {}): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.target(), method: 'POST', path: this.prefix + path + queryString(options.query),
        headers: { 'Connection': 'Upgrade', 'Upgrade': 'tcp', 'Content-Type': options.body === undefined ? 'text/plain' : 'application/json' },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head); // output that came with the 101
        resolve(socket);
      });
      req.on('response', (res) => void readText(res).then((text) => reject(daemonError(res.statusCode!, text)), reject));
      req.on('error', (error) => reject(this.unreachable(error)));
      req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
    });
  }

  private send(method: string, path: string, body?: unknown): Promise<http.IncomingMessage> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.target(), method, path,
        headers: text === undefined ? { 'Content-Length': 0 } : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
      }, resolve);
      req.on('error', (error) => reject(this.unreachable(error)));
      req.end(text);
    });
  }

  /** One connection per request (no keep-alive): nothing is left open to hold tsrun when its command is done. */
  private target(): http.RequestOptions {
    const where = this.address.kind === 'unix' ? { socketPath: this.address.path } : { host: this.address.host, port: this.address.port };
    return { ...where, agent: false };
  }

  private unreachable(error: Error): TsrunError {
    return new TsrunError(`cannot connect to the daemon at ${this.address.text}: ${errorText(error)}`, {
      hint: `is \`tsrun daemon\` running there? Or, ${DAEMONLESS_HINT}`, cause: error,
    });
  }
}

// #region daemon-error
/** An error answer as tsrun's error: the daemon's message (a tsrun daemon's keeps its hint after " — "), exit 125.
 *  A failed start is told apart by its words, as `docker run` tells them (cli/command/container/run.go): the
 *  command not found is 127, found but not executable 126. */
export function daemonError(status: number, body: string, starting = false): TsrunError {
  let message = body.trim();
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: the body is the message
  }
  if (message === '') message = `the daemon answered ${status} ${http.STATUS_CODES[status] ?? ''} with no message`.trimEnd();
  let kind: ErrorKind = 'runtime';
  if (starting && /executable file not found|no such file or directory/.test(message)) kind = 'not-found';
  else if (starting && /permission denied|is a directory/.test(message)) kind = 'cannot-exec';
  return new TsrunError(message, { kind, code: status === 404 ? 'NOT_FOUND' : undefined });
}
// #endregion

/** "1.41" against "1.24": the lower, compared part by part. */
export function lowerVersion(a: string, b: string): string {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2) ? a : b;
}

function queryString(query: CallOptions['query'] = {}): string {
  const given = Object.entries(query).filter(([, value]) => value !== undefined && value !== false);
  if (given.length === 0) return '';
  return '?' + new URLSearchParams(given.map(([key, value]) => [key, value === true ? '1' : String(value)])).toString();
}

export function readText(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
  });
}
