// `tsrun daemon`: the Docker Engine API, HTTP/1.1 on a unix socket, so that the docker CLI (and any client of the
// API) drives tsrun. Each request is answered by one handler (routes.ts), which calls what tsrun's own commands
// call; each is one line on stderr and, when tracing, one span. Several connections are served at once: during
// `docker run` one holds the pending /wait while /start comes on another.
//
// The containers do not depend on the daemon: each one's parent is its tsrun-monitor, so they run on when the
// daemon stops, and a daemon that starts again finds them (and what exited meanwhile) in the store.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation } from '@opentelemetry/api';
import type { Runtime } from '../runtime.js';
import { errorText, fail } from '../errors.js';
import { inSpan } from '../trace/span.js';
import { reconcileAll } from '../containers/reconcile.js';
import { apiLines, transcript } from './api-log.js';
import { tsrunVersion } from '../version.js';
import { Runs } from './runs.js';
import { Events } from './events.js';
import { Execs } from './execs.js';
import { HIJACKED_ROUTES, ROUTES, match, unversioned } from './routes.js';
import { badRequest, commonHeaders, errorResponseText, notFound, sendError, statusOf } from './http.js';

export type Listen = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'systemd' };

/** The first socket systemd passes to a service it starts for a socket unit (sd_listen_fds(3)). */
const SD_LISTEN_FDS_START = 3;

export interface Daemon {
  /** No new connection; the answers under way finish (a wait or an attach ends, the processes `docker exec` started
   *  are killed), and the socket file goes. */
  close(): Promise<void>;
}

/** unix:///PATH; fd://, the socket systemd made (contrib/tsrun.socket); or tcp://HOST:PORT on a loopback
 *  address: the API has no TLS and no login, so whoever can connect to it is root on this machine. */
export function parseHost(text: string): Listen {
  if (text === 'fd://') return { kind: 'systemd' };
  if (text.startsWith('unix://')) {
    const file = text.slice('unix://'.length);
    if (!file.startsWith('/')) throw fail(`invalid --host "${text}": the socket's path must be absolute`, 'write unix:///run/tsrun/tsrun.sock');
    return { kind: 'unix', path: file };
  }
  const tcp = /^tcp:\/\/(\[::1\]|localhost|127(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  if (tcp && Number(tcp[2]) >= 1 && Number(tcp[2]) <= 65535) return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  if (text.startsWith('tcp://')) throw fail(`invalid --host "${text}": tsrun listens on TCP on a loopback address only`, 'it has no TLS: write tcp://127.0.0.1:PORT, or use a unix socket');
  throw fail(`invalid --host "${text}"`, 'write unix:///PATH, fd:// or tcp://127.0.0.1:PORT');
}

// #region serve
export async function serve(runtime: Runtime, listen: Listen, log: (line: string) => void, options: { logApi?: boolean } = {}): Promise<Daemon> {
  await reconcileAll(runtime); // what happened while no daemon was looking: exits recorded, --rm containers gone
  const events = new Events();
  const runs = new Runs(runtime, events);
  const execs = new Execs();
  const headers = commonHeaders(tsrunVersion());
  const stopping = new AbortController();
  const connections = new Set<net.Socket>();
  const answering = new Set<Promise<void>>();
  const track = (answer: Promise<unknown>) => {
    const done = answer.then(() => {}, (error: unknown) => log(`tsrun: ${errorText(error)}`));
    answering.add(done);
    void done.finally(() => answering.delete(done));
  };

  const server = http.createServer();
  server.on('connection', (socket: net.Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => track(respond(req, async (url, path) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const found = match(ROUTES, req.method!, path);
    try {
      if (!found) {
        if (match(HIJACKED_ROUTES, req.method!, path)) throw badRequest('this endpoint takes the connection over: send "Connection: Upgrade" and "Upgrade: tcp"');
        throw notFound('page not found');
      }
      const signal = AbortSignal.any([gone.signal, stopping.signal]);
      await found.route.handle({ runtime, runs, execs, events, req, res, params: found.params, query: url.searchParams, signal });
    } catch (error) {
      if (!res.headersSent) sendError(res, error);
      else res.destroy(); // a stream cut short, rather than one that looks complete
      if (statusOf(error) >= 500) log(`tsrun: ${req.method} ${path}: ${errorText(error)}`);
    }
    return { route: found?.route.path, status: res.statusCode };
  }, log, options.logApi ? (status) => apiLines(transcript.bodies.get(req), transcript.answers.get(res), status) : undefined)));

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => track(respond(req, async (url, path) => {
    socket.on('error', () => {}); // a client that goes away mid-stream: seen as 'close'
    const gone = new AbortController();
    socket.on('close', () => gone.abort());
    const found = match(HIJACKED_ROUTES, req.method!, path);
    let upgraded = false;
    const upgrade = () => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      upgraded = true;
    };
    try {
      if (!found) throw notFound('page not found');
      const signal = AbortSignal.any([gone.signal, stopping.signal]);
      await found.route.handle({ runtime, runs, execs, events, req, socket, head, upgrade, params: found.params, query: url.searchParams, signal });
      return { route: found.route.path, status: 101 };
    } catch (error) {
      if (upgraded) socket.destroy();
      else socket.end(errorResponseText(error, headers));
      if (statusOf(error) >= 500) log(`tsrun: ${req.method} ${path}: ${errorText(error)}`);
      return { route: found?.route.path, status: upgraded ? 101 : statusOf(error) };
    }
  }, log, options.logApi ? (status) => apiLines(transcript.bodies.get(req), undefined, status) : undefined)));

  await listenOn(server, listen);
  return {
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      stopping.abort();
      execs.killAll();
      await Promise.all(answering);
      for (const socket of connections) socket.destroy(); // idle keep-alive connections, abandoned waits
      await closed;
      if (listen.kind === 'unix') fs.rmSync(listen.path, { force: true });
    },
  };
}
// #endregion

/** One request: its span (with HTTP's semantic attributes: never a body, an environment variable or the query;
 *  a trace of its own, unless the client sent a traceparent header: then a part of the client's), its answer,
 *  and its line on stderr (with --log-api, what `bodies` adds under it). */
async function respond(
  req: http.IncomingMessage,
  answer: (url: URL, path: string) => Promise<{ route: string | undefined; status: number }>,
  log: (line: string) => void,
  bodies?: (status: number) => string[],
): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'http://tsrun');
  const path = unversioned(url.pathname);
  const { status } = await context.with(propagation.extract(ROOT_CONTEXT, req.headers), () => inSpan(`${req.method}`, {
    'http.request.method': req.method!,
    'url.path': url.pathname,
  }, async (span) => {
    const result = await answer(url, path);
    if (result.route) span.updateName(`${req.method} ${result.route}`).setAttribute('http.route', result.route);
    span.setAttribute('http.response.status_code', result.status);
    if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  }, SpanKind.SERVER));
  log(`${req.method} ${req.url} ${status} ${Math.round(performance.now() - started)} ms`);
  for (const line of bodies?.(status) ?? []) log(line);
}

async function listenOn(server: http.Server, listen: Listen): Promise<void> {
  if (listen.kind === 'tcp') {
    server.listen(listen.port, listen.host);
    await once(server, 'listening');
    return;
  }
  if (listen.kind === 'systemd') {
    // Made, owned and given its mode by systemd, which passes it to the process it starts and to no other.
    if (process.env.LISTEN_PID !== String(process.pid) || !(Number(process.env.LISTEN_FDS) >= 1)) {
      throw fail('--host fd:// but systemd passed no socket (LISTEN_PID, LISTEN_FDS)', 'use fd:// in a service started by a socket unit (contrib/tsrun.socket); else unix:///PATH');
    }
    server.listen({ fd: SD_LISTEN_FDS_START });
    await once(server, 'listening');
    return;
  }
  await clearStaleSocket(listen.path);
  fs.mkdirSync(path.dirname(listen.path), { recursive: true });
  // Whoever can write to the socket can run anything as root: it is made 0660 (bound under this umask, never
  // open to all even for a moment), for root and the group tsrun, as Docker's is for root and the group docker.
  const umask = process.umask(0o117);
  try {
    server.listen(listen.path);
  } finally {
    process.umask(umask);
  }
  await once(server, 'listening');
  const gid = groupId('tsrun');
  if (gid !== undefined) fs.chownSync(listen.path, 0, gid);
}

/** A socket file left by a daemon that was killed is removed; one a daemon still answers on is not. */
async function clearStaleSocket(file: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSocket()) throw fail(`${file} exists and is not a socket`, 'give --host another path');
  const answered = await new Promise<boolean>((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw fail(`a daemon already listens on ${file}`, 'stop it first, or give --host another path');
  fs.rmSync(file);
}

/** The id of a group by its name, from /etc/group; undefined when there is no such group. */
function groupId(name: string): number | undefined {
  const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((entry) => entry.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(':')[2]);
}
