// A client for the OCI Distribution API, the HTTP API every registry speaks
// (Docker Hub, ghcr.io, Debian's docker-registry):
//
//   GET /v2/                                    are you a registry? (and: who must I be?)
//   GET /v2/<repository>/manifests/<tag|digest> a manifest or an index, as JSON
//   GET /v2/<repository>/blobs/<digest>         a config or a layer, often by redirect
//
// One client talks to one repository of one registry. It authenticates as the
// registry asks (see auth.ts) and keeps the token for all later requests,
// fetching a new one when the registry stops accepting it.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { fail } from '../errors.js';
import { inSpan } from '../trace/span.js';
import { MAX_JSON_BYTES } from '../image/staging.js';
import { Transport, readBody } from './http.js';
import { basicAuthorization, parseWwwAuthenticate, type Credentials } from './auth.js';
import { MANIFEST_ACCEPT } from './media.js';
import type { Endpoint } from './endpoint.js';

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
  ) {
    this.transport = new Transport(signal);
  }

  // #region client
  /** The manifest or index that `reference` (a tag or a digest) names, asking for the kinds we understand. */
  async manifest(reference: string): Promise<FetchedManifest> {
    return this.call('tsrun.registry.manifest', `/v2/${this.repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT }, async (response) => ({
      bytes: await readBody(response, MAX_JSON_BYTES, `manifest ${reference}`),
      contentType: response.headers['content-type']?.split(';')[0]?.trim(),
      claimedDigest: header(response, 'docker-content-digest'),
    }));
  }

  /** GET /v2/: is this a registry, and does it accept us? (`tsrun login` checks credentials with it.) */
  async ping(): Promise<void> {
    await this.call('tsrun.registry.ping', '/v2/', {}, async (response) => void response.resume());
  }

  /** The blob `digest`, streamed to `consume` (which must read it to the end or destroy it). */
  async blob<T>(digest: string, consume: (body: Readable, length: number | undefined) => Promise<T>): Promise<T> {
    return this.call('tsrun.registry.blob', `/v2/${this.repository}/blobs/${digest}`, {}, (response) => {
      const length = response.headers['content-length'];
      return consume(response, length === undefined ? undefined : Number(length));
    });
  }
  // #endregion

  close(): void {
    this.transport.close();
  }

  /** One API call in its span: the request, authentication if the registry asks for it, the status checked. */
  private call<T>(spanName: string, path: string, headers: Record<string, string>, read: (response: http.IncomingMessage) => Promise<T>): Promise<T> {
    const { host, port } = this.endpoint;
    return inSpan(spanName, { 'http.request.method': 'GET', 'server.address': host, 'server.port': port, 'url.path': path }, async (span) => {
      const response = await this.authorized(new URL(path, this.endpoint.origin), headers);
      span.setAttribute('http.response.status_code', response.statusCode ?? 0);
      if (response.statusCode !== 200) throw await this.refusal(response, path);
      return read(response);
    });
  }

  // #region authenticate
  /** GET `url`; on 401, authenticate as the challenge says and try once more. */
  private async authorized(url: URL, headers: Record<string, string>): Promise<http.IncomingMessage> {
    const send = () => this.transport.send({ method: 'GET', url, headers: { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) } });
    const first = await send();
    if (first.statusCode !== 401) return first;
    first.resume();
    await this.authenticate(header(first, 'www-authenticate') ?? '');
    const second = await send();
    if (second.statusCode !== 401) return second;
    second.resume();
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

  /** Ask the token server for a token that lets us pull from this repository. */
  private async fetchToken(realm: string, service: string | undefined, scope: string | undefined): Promise<string> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    // A login asks for no repository in particular: then there is no scope to ask for.
    const wanted = scope ?? (this.repository ? `repository:${this.repository}:pull` : undefined);
    if (wanted) url.searchParams.set('scope', wanted);
    return inSpan('tsrun.registry.token', { 'http.request.method': 'GET', 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }, async (span) => {
      const headers: Record<string, string> = this.credentials ? { authorization: basicAuthorization(this.credentials) } : {};
      const response = await this.transport.send({ method: 'GET', url, headers });
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
      : fail(`unauthorized: ${domain} wants credentials${this.repository ? ` to pull ${this.repository}` : ''}`, LOGIN_HINT);
  }

  /** A non-200 answer as an error: the registry's own error code when it sent one (the spec's
   *  { "errors": [{ "code": "MANIFEST_UNKNOWN", "message": … }] }). */
  private async refusal(response: http.IncomingMessage, path: string): Promise<Error> {
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
    if (code === 'NAME_UNKNOWN') return fail(`repository ${name} not found`, 'check the name; `tsrun pull` takes the repository as the registry lists it');
    if (code === 'MANIFEST_UNKNOWN' || (status === 404 && path.includes('/manifests/'))) {
      return fail(`manifest unknown: ${name} has no ${path.slice(path.lastIndexOf('/') + 1)}`, 'check the tag or digest');
    }
    if (code === 'BLOB_UNKNOWN' || (status === 404 && path.includes('/blobs/'))) {
      return fail(`blob unknown: ${name} has no ${path.slice(path.lastIndexOf('/') + 1)}`, 'the image in the registry is incomplete; push it again');
    }
    if (status === 403 || code === 'DENIED') return fail(`denied: ${domain} does not let you pull ${this.repository}`, LOGIN_HINT);
    return fail(`${domain} answered GET ${path} with ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`, 'try again later, or tell the registry\'s administrator');
  }
}

function header(response: http.IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
