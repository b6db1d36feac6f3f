// The registry client against tiny registries served by this test on loopback:
// the token dance, token reuse and refresh, Basic, redirects, and refusals.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.js';
import { Transport } from '../../../src/registry/http.js';
import { endpointFor } from '../../../src/registry/endpoint.js';
import type { Credentials } from '../../../src/registry/auth.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function clientFor(host: string, credentials?: Credentials): RegistryClient {
  return new RegistryClient(endpointFor(host, { insecureRegistries: [] }), 'team/app', credentials);
}

const readAll = async (body: AsyncIterable<Buffer>) => {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
};

describe('RegistryClient', () => {
  it('fetches a token from the realm once, reuses it, and fetches a new one when it stops working', async () => {
    const log: string[] = [];
    let tokensIssued = 0;
    let valid = '';
    let usesLeft = 0;
    const host = await serve((request, response) => {
      const url = new URL(request.url!, 'http://x');
      if (url.pathname === '/token') {
        log.push(`token ${url.searchParams.get('service')} ${url.searchParams.get('scope')} ${request.headers.authorization ?? 'anonymous'}`);
        valid = `t${++tokensIssued}`;
        usesLeft = 3;
        response.end(JSON.stringify({ token: valid }));
        return;
      }
      if (request.headers.authorization !== `Bearer ${valid}` || usesLeft-- <= 0) {
        log.push(`401 ${url.pathname}`);
        response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="test",scope="repository:team/app:pull"` }).end();
        return;
      }
      log.push(`200 ${url.pathname} ${request.headers.authorization}${request.headers.accept ? ' accept' : ''}`);
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json; charset=utf-8', 'docker-content-digest': 'sha256:abc' }).end('{"schemaVersion":2}');
    });
    const client = clientFor(host, { username: 'student', password: 'pw' });
    try {
      const manifest = await client.manifest('latest');
      expect(manifest).toEqual({ bytes: Buffer.from('{"schemaVersion":2}'), contentType: 'application/vnd.oci.image.manifest.v1+json', claimedDigest: 'sha256:abc' });
      for (let i = 0; i < 4; i++) expect(await client.blob(`sha256:${i}`, readAll)).toBe('{"schemaVersion":2}');
    } finally {
      client.close();
    }
    const basic = `Basic ${Buffer.from('student:pw').toString('base64')}`;
    expect(log).toEqual([
      '401 /v2/team/app/manifests/latest',
      `token test repository:team/app:pull ${basic}`,
      '200 /v2/team/app/manifests/latest Bearer t1 accept',
      '200 /v2/team/app/blobs/sha256:0 Bearer t1',
      '200 /v2/team/app/blobs/sha256:1 Bearer t1',
      '401 /v2/team/app/blobs/sha256:2',
      `token test repository:team/app:pull ${basic}`,
      '200 /v2/team/app/blobs/sha256:2 Bearer t2',
      '200 /v2/team/app/blobs/sha256:3 Bearer t2',
    ]);
  });

  it('answers a Basic challenge with the credentials, and stops after one retry when they are refused', async () => {
    let requests = 0;
    const good = `Basic ${Buffer.from('a:right').toString('base64')}`;
    const host = await serve((request, response) => {
      requests++;
      if (request.headers.authorization === good) response.end('blob');
      else response.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    });
    const right = clientFor(host, { username: 'a', password: 'right' });
    const wrong = clientFor(host, { username: 'a', password: 'wrong' });
    const anonymous = clientFor(host);
    try {
      expect(await right.blob('sha256:1', readAll)).toBe('blob');
      await expect(wrong.blob('sha256:1', readAll)).rejects.toThrow(`unauthorized: ${host} refused the credentials of a for team/app`);
      await expect(anonymous.blob('sha256:1', readAll)).rejects.toThrow(`unauthorized: ${host} wants credentials to pull team/app`);
    } finally {
      for (const client of [right, wrong, anonymous]) client.close();
    }
    expect(requests).toBe(2 + 2 + 1);
  });

  it('follows a blob\'s redirect to another host without taking the credentials along', async () => {
    const seen: (string | undefined)[] = [];
    const storage = await serve((request, response) => {
      seen.push(request.headers.authorization);
      response.end(`stored ${request.url}`);
    });
    const host = await serve((request, response) => {
      if (!request.headers.authorization) response.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      else response.writeHead(307, { location: `http://${storage}/bucket/1` }).end();
    });
    const client = clientFor(host, { username: 'a', password: 'b' });
    try {
      expect(await client.blob('sha256:1', readAll)).toBe('stored /bucket/1');
    } finally {
      client.close();
    }
    expect(seen).toEqual([undefined]);
  });

  it('says what the registry does not have, from its error codes', async () => {
    const host = await serve((request, response) => {
      const code = request.url!.includes('/manifests/') ? 'MANIFEST_UNKNOWN' : 'NAME_UNKNOWN';
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code, message: 'nope' }] }));
    });
    const client = clientFor(host);
    try {
      // The code too, by which the daemon answers 404 as dockerd does.
      await expect(client.manifest('v9')).rejects.toMatchObject({ message: `manifest unknown: ${host}/team/app has no v9`, code: 'MANIFEST_UNKNOWN' });
      await expect(client.blob('sha256:1', readAll)).rejects.toMatchObject({ message: `repository ${host}/team/app not found`, code: 'NAME_UNKNOWN' });
    } finally {
      client.close();
    }
  });

  it('names a TLS failure and says what to do about a plain-HTTP registry', async () => {
    const host = await serve((_request, response) => response.end('plain http'));
    const transport = new Transport();
    try {
      await expect(transport.send({ method: 'GET', url: new URL(`https://${host}/v2/`), headers: {} }))
        .rejects.toMatchObject({ message: expect.stringMatching(new RegExp(`^cannot reach registry ${host}: TLS failed \\(`)), hint: expect.stringContaining('insecure-registries') });
    } finally {
      transport.close();
    }
  });

  it('names a registry that is not there', async () => {
    const client = clientFor('127.0.0.1:1');
    try {
      await expect(client.manifest('latest')).rejects.toThrow('cannot reach registry 127.0.0.1:1: connection refused');
    } finally {
      client.close();
    }
  });

  it('asks the token server for push access when pushing, resends the upload with the token, and names a refused push', async () => {
    const log: string[] = [];
    const host = await serve((request, response) => {
      const url = new URL(request.url!, 'http://x');
      if (url.pathname === '/token') {
        log.push(`token ${url.searchParams.get('scope')}`);
        response.end(JSON.stringify({ token: 'pusher' }));
        return;
      }
      if (request.headers.authorization !== 'Bearer pusher') {
        response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="test"` }).end();
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        log.push(`${request.method} ${url.pathname}${url.search} ${Buffer.concat(chunks).toString()}`);
        if (request.method === 'POST') response.writeHead(202, { location: '/v2/team/app/blobs/uploads/u1?_state=s' }).end();
        else if (url.pathname.includes('/manifests/')) response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'read only' }] }));
        else response.writeHead(201).end();
      });
    });
    const client = new RegistryClient(endpointFor(host, { insecureRegistries: [] }), 'team/app', undefined, undefined, 'pull,push');
    try {
      const location = await client.startUpload();
      expect(location).toBe(`http://${host}/v2/team/app/blobs/uploads/u1?_state=s`);
      await client.finishUpload(location, 'sha256:abc', Buffer.from('layer bytes'));
      await expect(client.putManifest('v1', 'application/vnd.oci.image.manifest.v1+json', Buffer.from('{}')))
        .rejects.toThrow(`denied: ${host} does not let you push to team/app`);
      expect(log).toEqual([
        'token repository:team/app:pull,push',
        'POST /v2/team/app/blobs/uploads/ ',
        'PUT /v2/team/app/blobs/uploads/u1?_state=s&digest=sha256%3Aabc layer bytes',
        'PUT /v2/team/app/manifests/v1 {}',
      ]);
    } finally {
      client.close();
    }
  });

  it('gives up on a registry that answers 401 whatever token it is given, after one token', async () => {
    const log: string[] = [];
    const host = await serve((request, response) => {
      log.push(new URL(request.url!, 'http://x').pathname);
      if (request.url!.startsWith('/token')) response.end(JSON.stringify({ token: 'never-good-enough' }));
      else response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="test"` }).end();
    });
    const client = clientFor(host);
    try {
      await expect(client.manifest('latest')).rejects.toThrow(`unauthorized: ${host} wants credentials to pull team/app`);
      expect(log).toEqual(['/v2/team/app/manifests/latest', '/token', '/v2/team/app/manifests/latest']);
    } finally {
      client.close();
    }
  });

  it('sends no credentials to an upload Location on another origin, nor answers its 401', async () => {
    const seen: string[] = [];
    let refuse = false;
    const storage = await serve((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? 'no authorization'}`);
      request.resume();
      if (refuse) response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${request.headers.host}/token"` }).end();
      else if (request.method === 'PATCH') response.writeHead(202, { location: `http://${request.headers.host}/upload/1?part=2` }).end();
      else response.writeHead(201).end();
    });
    const basic = `Basic ${Buffer.from('a:b').toString('base64')}`;
    const host = await serve((request, response) => {
      request.resume();
      if (request.headers.authorization !== basic) response.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      else response.writeHead(202, { location: `http://${storage}/upload/1` }).end();
    });
    const client = new RegistryClient(endpointFor(host, { insecureRegistries: [] }), 'team/app', { username: 'a', password: 'b' }, undefined, 'pull,push');
    try {
      const location = await client.startUpload();
      const next = await client.uploadChunk(location, 0, Buffer.from('chunk'));
      await client.finishUpload(next, 'sha256:abc', Buffer.from('last'));
      refuse = true;
      await expect(client.uploadChunk(location, 0, Buffer.from('chunk'))).rejects.toThrow(`${host} answered PATCH /upload/1 with 401`);
    } finally {
      client.close();
    }
    expect(seen).toEqual([
      'PATCH /upload/1 no authorization',
      'PUT /upload/1?part=2&digest=sha256%3Aabc no authorization',
      'PATCH /upload/1 no authorization', // and no token asked of the realm it named
    ]);
  });

  it('does not answer a 401 from the host a redirect led to: the token server it names would get the password', async () => {
    const realmRequests: string[] = [];
    const realm = await serve((request, response) => {
      realmRequests.push(request.headers.authorization ?? 'anonymous');
      response.end(JSON.stringify({ token: 't' }));
    });
    const storage = await serve((_request, response) => {
      response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm}/token"` }).end();
    });
    const host = await serve((_request, response) => response.writeHead(307, { location: `http://${storage}/bucket/1` }).end());
    const client = clientFor(host, { username: 'a', password: 'b' });
    try {
      await expect(client.blob('sha256:1', readAll)).rejects.toThrow(`${host} answered GET /v2/team/app/blobs/sha256:1 with 401`);
    } finally {
      client.close();
    }
    expect(realmRequests).toEqual([]);
  });

  it('sends credentials to a token server over plain http only on this machine', async () => {
    const host = await serve((_request, response) => {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="http://localhost:1/token",service="test"' }).end();
    });
    const client = clientFor(host, { username: 'a', password: 'b' });
    try {
      // Allowed (localhost), so asked: nothing listens on port 1.
      await expect(client.manifest('latest')).rejects.toThrow(/cannot reach registry localhost:1/);
    } finally {
      client.close();
    }
  });
});
