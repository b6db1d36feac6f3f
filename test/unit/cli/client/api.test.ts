import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient, daemonError, lowerVersion, readText } from '../../../../src/cli/client/api.js';
import { FrameReader } from '../../../../src/cli/client/frames.js';
import { pullViaDaemon } from '../../../../src/cli/client/run.js';
import { framed } from '../../../../src/daemon/stream.js';
import { formatError, exitCodeOf } from '../../../../src/errors.js';

describe('daemonError', () => {
  it('is the daemon\'s message, exit 125, as tsrun prints its own errors', () => {
    const error = daemonError(409, '{"message":"name in use: web — remove it first"}\n');
    expect(formatError(error)).toBe('tsrun: name in use: web — remove it first');
    expect(exitCodeOf(error)).toBe(125);
  });

  it('tells a failed start\'s 127 and 126 by its words, as docker run does, and only a start\'s', () => {
    const notFound = '{"message":"exec: \\"nosuch\\": executable file not found in $PATH — check the command"}';
    expect(exitCodeOf(daemonError(400, notFound, true))).toBe(127);
    expect(exitCodeOf(daemonError(400, '{"message":"exec: \\"/x\\": no such file or directory"}', true))).toBe(127);
    expect(exitCodeOf(daemonError(400, '{"message":"exec: \\"/etc/passwd\\": permission denied"}', true))).toBe(126);
    expect(exitCodeOf(daemonError(400, '{"message":"exec: \\"/etc\\": is a directory"}', true))).toBe(126);
    expect(exitCodeOf(daemonError(500, '{"message":"mount overlay: EINVAL"}', true))).toBe(125);
    // A bind mount's missing source is the request's mistake, not a command's.
    expect(exitCodeOf(daemonError(400, '{"message":"bind /nope: no such file or directory"}'))).toBe(125);
  });

  it('keeps a body that is not JSON, and says when there is none', () => {
    expect(daemonError(502, 'Bad Gateway\n').message).toBe('Bad Gateway');
    expect(daemonError(500, '').message).toBe('the daemon answered 500 Internal Server Error with no message');
    expect(daemonError(404, '{"message":"No such container: x"}').code).toBe('NOT_FOUND');
  });
});

describe('lowerVersion', () => {
  it('compares part by part, as numbers', () => {
    expect(lowerVersion('1.41', '1.50')).toBe('1.41');
    expect(lowerVersion('1.50', '1.41')).toBe('1.41');
    expect(lowerVersion('1.9', '1.24')).toBe('1.9');
  });
});

describe('DaemonClient, against a fake daemon on a unix socket', () => {
  let server: http.Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    server = dir = undefined;
  });

  async function fakeDaemon(apiVersion: string | undefined, answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ socket: string; seen: string[] }> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-client-'));
    const socket = path.join(dir, 'd.sock');
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/_ping') {
        res.writeHead(200, apiVersion ? { 'Api-Version': apiVersion } : {}).end();
        return;
      }
      answer(req, res);
    });
    server.on('upgrade', (req, socket) => {
      seen.push(`${req.method} ${req.url} (upgrade)`);
      socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      socket.end(Buffer.concat([framed('stdout', Buffer.from('out\n')), framed('stderr', Buffer.from('err\n'))]));
    });
    await new Promise<void>((resolve) => server!.listen(socket, resolve));
    return { socket, seen };
  }

  it('pings once with HEAD, and speaks the lower of the two API versions after', async () => {
    const { socket, seen } = await fakeDaemon('1.40', (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]'));
    const client = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` });
    expect(await client.json('GET', '/containers/json', { query: { all: true, filters: undefined } })).toEqual([]);
    expect(seen).toEqual(['HEAD /_ping', 'GET /v1.40/containers/json?all=1']);
  });

  it('assumes 1.24 of a daemon whose ping names no version, as the docker CLI does', async () => {
    const { socket, seen } = await fakeDaemon(undefined, (_req, res) => res.writeHead(204).end());
    const client = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` });
    await client.json('POST', '/containers/x/stop');
    expect(seen[1]).toBe('POST /v1.24/containers/x/stop');
  });

  it('sends JSON bodies, and throws an error answer as tsrun\'s error', async () => {
    let body = '';
    const { socket } = await fakeDaemon('1.41', (req, res) => {
      void readText(req).then((text) => {
        body = text;
        res.writeHead(409, { 'Content-Type': 'application/json' }).end('{"message":"Conflict. The name \\"/web\\" is already in use"}\n');
      });
    });
    const client = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` });
    await expect(client.json('POST', '/containers/create', { body: { Image: 'demo' } })).rejects.toThrow('Conflict. The name "/web" is already in use');
    expect(JSON.parse(body)).toEqual({ Image: 'demo' });
  });

  it('hijacks an attach: after the 101, the daemon\'s frames', async () => {
    const { socket, seen } = await fakeDaemon('1.41', () => {});
    const client = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` });
    const stream = await client.hijack('/containers/x/attach', { query: { stream: true, stdout: true, stderr: true } });
    stream.end();
    const reader = new FrameReader();
    const frames = [];
    for await (const chunk of stream) frames.push(...reader.push(chunk as Buffer));
    expect(frames.map((f) => `${f.stream}:${f.data}`)).toEqual(['stdout:out\n', 'stderr:err\n']);
    expect(seen[1]).toBe('POST /v1.41/containers/x/attach?stream=1&stdout=1&stderr=1 (upgrade)');
  });

  it('writes a pull\'s progress as tsrun pull writes it off a terminal, without the byte counts', async () => {
    const { socket, seen } = await fakeDaemon('1.41', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      for (const message of [
        { status: 'Pulling from demo', id: 'latest' },
        { status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2c3d4e5f6' },
        { status: 'Downloading', progressDetail: { current: 10, total: 20 }, id: 'a1b2c3d4e5f6' },
        { status: 'Pull complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
        { status: 'Digest: sha256:abc' },
        { status: 'Status: Downloaded newer image for 127.0.0.1:5000/demo:latest' },
      ]) res.write(JSON.stringify(message) + '\r\n');
      res.end();
    });
    const client = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` });
    let written = '';
    const to = { write: (text: string) => (written += text) } as unknown as NodeJS.WritableStream;
    expect(await pullViaDaemon(client, '127.0.0.1:5000/demo', { to })).toBe('127.0.0.1:5000/demo:latest');
    expect(written).toBe([
      'latest: Pulling from demo', 'a1b2c3d4e5f6: Pulling fs layer', 'a1b2c3d4e5f6: Pull complete',
      'Digest: sha256:abc', 'Status: Downloaded newer image for 127.0.0.1:5000/demo:latest', '',
    ].join('\n'));
    expect(seen[1]).toBe('POST /v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fdemo&tag=latest');
  });

  it('throws the error line a pull ends with once its stream has begun', async () => {
    const { socket } = await fakeDaemon('1.41', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"Pulling from demo","id":"latest"}\r\n{"error":"unexpected EOF","errorDetail":{"message":"unexpected EOF"}}\r\n');
    });
    const client = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` });
    const to = { write: () => true } as unknown as NodeJS.WritableStream;
    await expect(pullViaDaemon(client, '127.0.0.1:5000/demo', { to })).rejects.toThrow('unexpected EOF');
  });

  it('says which daemon it could not reach, and how to do without one', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-client-'));
    const socket = path.join(dir, 'none.sock');
    const error = await DaemonClient.connect({ kind: 'unix', path: socket, text: `unix://${socket}` }).catch((e: unknown) => e);
    expect(formatError(error)).toMatch(new RegExp(`^tsrun: cannot connect to the daemon at unix://${socket}: connect: ENOENT — .*unset TSRUN_HOST and DOCKER_HOST`));
    expect(exitCodeOf(error)).toBe(125);
  });
});
