// A client for the OCI Distribution API, the HTTP API every registry speaks
// (Docker Hub, ghcr.io, Debian's docker-registry):
//
//   GET /v2/                                    are you a registry? (and: who must I be?)
//   GET /v2/<repository>/manifests/<tag|digest> a manifest or an index, as JSON
//   GET /v2/<repository>/blobs/<digest>         a config or a layer, often by redirect
//
// and, to push (push.ts puts them in order):
//
//   HEAD  /v2/<repository>/blobs/<digest>                 has the registry this blob already?
//   POST  /v2/<repository>/blobs/uploads/?mount=…&from=…  take it from another repository, or
//   POST  /v2/<repository>/blobs/uploads/                 start an upload: 202 and a Location
//   PATCH <location>                                      a chunk of the blob (Content-Range)
//   PUT   <location>?digest=<digest>                      the rest, and "that was all of it"
//   PUT   /v2/<repository>/manifests/<tag>                the manifest, last: now the tag exists
//
// One client talks to one repository of one registry. It authenticates as the
// registry asks (see auth.ts) and keeps the token for all later requests,
// fetching a new one when the registry stops accepting it.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { TsrunError, fail } from '../errors.js';
import { inSpan } from '../trace/span.js';
import { MAX_JSON_BYTES } from '../store/staging.js';
import { Transport, readBody } from './http.js';
import { basicAuthorization, parseWwwAuthenticate, tokenRealm, type Credentials } from './auth.js';
import { MANIFEST_ACCEPT } from './media.js';
import type { Endpoint } from './endpoint.js';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';

interface ApiCall {
  method: Method;
  /** A path under the registry's origin, or an upload's URL as the registry gave it. */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** The statuses that mean success; anything else is turned into an error. */
  expect: number[];
}

export interface FetchedManifest {
  bytes: Buffer;
  /** The Content-Type the registry sent, without parameters. */
  contentType: string | undefined;
  /** The Docker-Content-Digest header, when the registry sent one. */
  claimedDigest: string | undefined;
}

const LOGIN_HINT = 'log in with `tsrun login REGISTRY` (or `docker login`)';

export class RegistryClient {
  private readonly transport: Transport;
  /** The Authorization header that worked last (a Bearer token, or Basic). */
  private authorization: string | undefined;

  constructor(
    readonly endpoint: Endpoint,
    readonly repository: string,
    private readonly credentials: Credentials | undefined,
    signal?: AbortSignal,
    /** What the token is asked for when the registry names no scope itself. */
    private readonly access: 'pull' | 'pull,push' = 'pull',
  ) {
    this.transport = new Transport(signal);
  }

  // #region client
  /** The manifest or index that `reference` (a tag or a digest) names, asking for the kinds we understand;
   *  `size`, when an index's descriptor gives it, is the most that is read. */
  async manifest(reference: string, size = MAX_JSON_BYTES): Promise<FetchedManifest> {
    const path = `/v2/${this.repository}/manifests/${reference}`;
    return this.call('tsrun.registry.manifest', { method: 'GET', url: path, headers: { accept: MANIFEST_ACCEPT }, expect: [200] }, async (response) => ({
      bytes: await readBody(response, Math.min(size, MAX_JSON_BYTES), `manifest ${reference}`),
      contentType: response.headers['content-type']?.split(';')[0]?.trim(),
      claimedDigest: header(response, 'docker-content-digest'),
    }));
  }

  /** GET /v2/: is this a registry, and does it accept us? (`tsrun login` checks credentials with it.) */
  async ping(): Promise<void> {
    await this.call('tsrun.registry.ping', { method: 'GET', url: '/v2/', expect: [200] }, async (response) => void response.resume());
  }

  /** The blob `digest`, streamed to `consume` (which must read it to the end or destroy it). */
  async blob<T>(digest: string, consume: (body: Readable, length: number | undefined) => Promise<T>): Promise<T> {
    return this.call('tsrun.registry.blob', { method: 'GET', url: `/v2/${this.repository}/blobs/${digest}`, expect: [200] }, (response) => {
      const length = response.headers['content-length'];
      return consume(response, length === undefined ? undefined : Number(length));
    });
  }
  // #endregion

  // #region push-calls
  /** HEAD the blob: does this repository have it already? */
  async hasBlob(digest: string): Promise<boolean> {
    return this.call('tsrun.registry.blob.check', { method: 'HEAD', url: `/v2/${this.repository}/blobs/${digest}`, expect: [200, 404] },
      async (response) => response.statusCode === 200);
  }

  /** Ask the registry to link the blob from repository `from` into this one, without uploading it.
   *  Mounted: undefined. Not possible there: the registry starts an ordinary upload instead, whose URL is returned. */
  async mountBlob(digest: string, from: string): Promise<string | undefined> {
    const query = new URLSearchParams({ mount: digest, from });
    return this.call('tsrun.registry.blob.mount', { method: 'POST', url: `/v2/${this.repository}/blobs/uploads/?${query}`, body: Buffer.alloc(0), expect: [201, 202] },
      async (response) => (response.statusCode === 201 ? undefined : this.uploadLocation(response)));
  }

  /** Start an upload; returns the URL its chunks go to. */
  async startUpload(): Promise<string> {
    return this.call('tsrun.registry.upload.start', { method: 'POST', url: `/v2/${this.repository}/blobs/uploads/`, body: Buffer.alloc(0), expect: [202] },
      async (response) => this.uploadLocation(response));
  }

  /** Send the bytes from `offset` on; returns the URL the next chunk goes to. */
  async uploadChunk(location: string, offset: number, chunk: Buffer): Promise<string> {
    const headers = { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` };
    return this.call('tsrun.registry.upload.chunk', { method: 'PATCH', url: location, headers, body: chunk, expect: [202] },
      async (response) => this.uploadLocation(response));
  }

  /** Close the upload with its last bytes (all of them, for a monolithic upload; none after chunks): the registry
   *  checks them against `digest` and keeps the blob under it. */
  async finishUpload(location: string, digest: string, last: Buffer): Promise<void> {
    const url = new URL(location, this.endpoint.origin);
    url.searchParams.set('digest', digest);
    await this.call('tsrun.registry.upload.finish', { method: 'PUT', url: url.href, headers: { 'content-type': 'application/octet-stream' }, body: last, expect: [201, 204] },
      async (response) => void response.resume());
  }

  /** PUT the manifest under `reference` (a tag); returns the digest the registry computed. */
  async putManifest(reference: string, mediaType: string, bytes: Buffer): Promise<string | undefined> {
    return this.call('tsrun.registry.manifest.put', { method: 'PUT', url: `/v2/${this.repository}/manifests/${reference}`, headers: { 'content-type': mediaType }, body: bytes, expect: [201] },
      async (response) => {
        response.resume();
        return header(response, 'docker-content-digest');
      });
  }
  // #endregion

  close(): void {
    this.transport.close();
  }

  /** One API call in its span: the request, authentication if the registry asks for it, the status checked. */
  private call<T>(spanName: string, apiCall: ApiCall, read: (response: http.IncomingMessage) => Promise<T>): Promise<T> {
    const url = new URL(apiCall.url, this.endpoint.origin);
    const { host, port } = this.endpoint;
    return inSpan(spanName, { 'http.request.method': apiCall.method, 'server.address': host, 'server.port': port, 'url.path': url.pathname }, async (span) => {
      const response = await this.authorized(apiCall.method, url, apiCall.headers ?? {}, apiCall.body);
      span.setAttribute('http.response.status_code', response.statusCode ?? 0);
      if (!apiCall.expect.includes(response.statusCode ?? 0)) throw await this.refusal(response, apiCall.method, url.pathname);
      return read(response);
    });
  }

  /** The Location of an upload (relative or absolute) as an absolute URL. */
  private uploadLocation(response: http.IncomingMessage): string {
    response.resume();
    const location = header(response, 'location');
    if (!location) throw fail(`${this.endpoint.domain} started an upload but sent no Location for it`, 'the registry is not following the distribution API; tell its administrator');
    return new URL(location, this.endpoint.origin).href;
  }

  // #region authenticate
  /** Send the request; on 401, authenticate as the challenge says and try once more.
   *  Only the registry's own origin is ever sent credentials: an upload's Location or a blob's redirect
   *  may lead to another (a storage bucket), which gets none, as a browser sends none across origins.
   *  Nor is its 401 answered: the token server it named would be sent our password. */
  private async authorized(method: Method, url: URL, headers: Record<string, string>, body: Buffer | undefined): Promise<http.IncomingMessage> {
    const ours = (at: URL) => at.origin === this.endpoint.origin;
    const send = () => this.transport.send({ method, url, body, headers: { ...headers, ...(this.authorization && ours(url) ? { authorization: this.authorization } : {}) } });
    const first = await send();
    if (first.response.statusCode !== 401 || !ours(first.url)) return first.response;
    first.response.resume();
    await this.authenticate(header(first.response, 'www-authenticate') ?? '');
    const second = await send();
    if (second.response.statusCode !== 401 || !ours(second.url)) return second.response;
    second.response.resume();
    throw this.unauthorized();
  }

  private async authenticate(wwwAuthenticate: string): Promise<void> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer?.params.realm) {
      this.authorization = `Bearer ${await this.fetchToken(bearer.params.realm, bearer.params.service, bearer.params.scope)}`;
      return;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic') && this.credentials) {
      this.authorization = basicAuthorization(this.credentials);
      return;
    }
    throw this.unauthorized();
  }

  /** Ask the token server for a token that lets us pull from (or push to) this repository. */
  private async fetchToken(realm: string, service: string | undefined, scope: string | undefined): Promise<string> {
    const url = tokenRealm(realm, this.credentials !== undefined);
    if (service) url.searchParams.set('service', service);
    // A login asks for no repository in particular: then there is no scope to ask for.
    const wanted = scope ?? (this.repository ? `repository:${this.repository}:${this.access}` : undefined);
    if (wanted) url.searchParams.set('scope', wanted);
    return inSpan('tsrun.registry.token', { 'http.request.method': 'GET', 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }, async (span) => {
      const headers: Record<string, string> = this.credentials ? { authorization: basicAuthorization(this.credentials) } : {};
      const { response } = await this.transport.send({ method: 'GET', url, headers });
      span.setAttribute('http.response.status_code', response.statusCode ?? 0);
      const body = await readBody(response, MAX_JSON_BYTES, `the token from ${url.host}`);
      if (response.statusCode === 401 || response.statusCode === 403) throw this.unauthorized();
      if (response.statusCode !== 200) throw fail(`the token server ${url.host} answered ${response.statusCode}`, 'try again later');
      let parsed: { token?: unknown; access_token?: unknown };
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw fail(`the token server ${url.host} sent something that is not JSON`, 'try again later', error);
      }
      const token = parsed.token ?? parsed.access_token;
      if (typeof token !== 'string' || token === '') throw fail(`the token server ${url.host} sent no token`, 'try again later');
      return token;
    });
  }
  // #endregion

  private unauthorized(): Error {
    const { domain } = this.endpoint;
    const what = this.repository ? ` for ${this.repository}` : '';
    return this.credentials
      ? fail(`unauthorized: ${domain} refused the credentials of ${this.credentials.username}${what}`, `check the username and password; ${LOGIN_HINT}`)
      : fail(`unauthorized: ${domain} wants credentials${this.repository ? ` to ${this.access === 'pull' ? 'pull' : 'push to'} ${this.repository}` : ''}`, LOGIN_HINT);
  }

  /** A non-200 answer as an error: the registry's own error code when it sent one (the spec's
   *  { "errors": [{ "code": "MANIFEST_UNKNOWN", "message": … }] }). */
  private async refusal(response: http.IncomingMessage, method: Method, path: string): Promise<Error> {
    const status = response.statusCode ?? 0;
    let code = '';
    let message = '';
    try {
      const body = JSON.parse((await readBody(response, 64 * 1024, 'the error')).toString('utf8')) as { errors?: { code?: string; message?: string }[] };
      code = body.errors?.[0]?.code ?? '';
      message = body.errors?.[0]?.message ?? '';
    } catch {
      response.destroy(); // not the spec's JSON: the status alone must do
    }
    const { domain } = this.endpoint;
    const name = `${domain}/${this.repository}`;
    const reading = method === 'GET' || method === 'HEAD';
    if (code === 'NAME_UNKNOWN') {
      return new TsrunError(`repository ${name} not found`, { hint: 'check the name; `tsrun pull` takes the repository as the registry lists it', code });
    }
    if (code === 'MANIFEST_UNKNOWN' || (reading && status === 404 && path.includes('/manifests/'))) {
      return new TsrunError(`manifest unknown: ${name} has no ${path.slice(path.lastIndexOf('/') + 1)}`, { hint: 'check the tag or digest', code: 'MANIFEST_UNKNOWN' });
    }
    if (code === 'BLOB_UNKNOWN' || (reading && status === 404 && path.includes('/blobs/'))) {
      return fail(`blob unknown: ${name} has no ${path.slice(path.lastIndexOf('/') + 1)}`, 'the image in the registry is incomplete; push it again');
    }
    if (status === 403 || code === 'DENIED') return fail(`denied: ${domain} does not let you ${reading ? 'pull' : 'push to'} ${this.repository}`, LOGIN_HINT);
    return fail(`${domain} answered ${method} ${path} with ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`, 'try again later, or tell the registry\'s administrator');
  }
}

function header(response: http.IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
