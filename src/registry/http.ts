// HTTP/1.1 with Node's own http and https modules: one request, its redirects
// followed, and the network's failures turned into errors a person can act on.
// Connections are kept alive, so the manifest, the config and every layer of a
// pull travel over the same few sockets.
import http from 'node:http';
import https from 'node:https';
import { fail } from '../errors.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  url: URL;
  headers: Record<string, string>;
  /** Uploads send bytes held in memory (a chunk at most), so a request can be sent again after a 401. */
  body?: Buffer;
}

const MAX_REDIRECTS = 5;
/** A registry that says nothing for this long is not coming back. */
const IDLE_TIMEOUT_MS = 30_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Transport {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  constructor(private readonly signal?: AbortSignal) {}

  /** Send `request`, following redirects of reads (blobs often live on another host: a CDN, a bucket).
   *  Credentials go only to the origin they were meant for. Returns the answer and the URL that gave it
   *  (another, after a redirect). The caller consumes or resumes the body. */
  async send(request: HttpRequest): Promise<{ response: http.IncomingMessage; url: URL }> {
    let { url, headers } = request;
    const { method, body } = request;
    for (let hop = 0; ; hop++) {
      const response = await this.once(method, url, headers, body);
      const location = response.headers.location;
      // A write answered with a Location (an upload's next URL) is not a redirect: the caller reads it.
      const isRead = method === 'GET' || method === 'HEAD';
      if (!isRead || !REDIRECTS.has(response.statusCode ?? 0) || location === undefined) return { response, url };
      response.resume();
      if (hop === MAX_REDIRECTS) throw fail(`${request.url.host} redirected more than ${MAX_REDIRECTS} times`, 'the registry is misconfigured; tell its administrator');
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        const { authorization: _dropped, ...rest } = headers;
        headers = rest;
      }
      url = next;
    }
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  private once(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined): Promise<http.IncomingMessage> {
    const protocol = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!protocol) return Promise.reject(fail(`cannot follow ${url.href}: only http and https are spoken`));
    return new Promise((resolve, reject) => {
      const request = protocol.request(url, {
        method, headers, agent: this.agents[url.protocol as 'http:' | 'https:'], signal: this.signal, timeout: IDLE_TIMEOUT_MS,
      }, resolve);
      request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', (error) => reject(this.signal?.aborted ? this.signal.reason : unreachable(url, error)));
      if (body !== undefined) request.setHeader('content-length', body.length);
      request.end(body);
    });
  }
}

/** Read a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(response: http.IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      throw fail(`${what} is larger than ${limit} bytes`, 'the registry sent something that is not what was asked for');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$)/;

/** What went wrong on the way to the registry, and what to do about it. */
function unreachable(url: URL, error: NodeJS.ErrnoException): Error {
  const code = error.code ?? '';
  const host = url.host;
  if (code === 'ECONNREFUSED') return fail(`cannot reach registry ${host}: connection refused`, 'check the address and port, and that the registry is running', error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(`cannot reach registry ${host}: the name does not resolve`, 'check the registry name and your DNS', error);
  if (TLS_CODES.test(code)) {
    return fail(`cannot reach registry ${host}: TLS failed (${code})`,
      'if this registry speaks plain HTTP, list it under "insecure-registries" in tsrun\'s config.json', error);
  }
  return fail(`cannot reach registry ${host}: ${code || error.message}`, 'check the network and try again', error);
}
