// `docker exec`: one more process in a running container, in three calls (29-exec.txt in the API captures):
//
//   POST /containers/{id}/exec   the process as the client wants it (Cmd, Env, User, WorkingDir): an exec
//                                instance, kept here by its id; nothing runs yet
//   POST /exec/{id}/start        it starts, by tsrun exec's own code (src/containers/exec-in.ts), on pipes: the
//                                connection is hijacked as an attach is, the output framed on its way out, the
//                                client's input (with -i) written into the process's stdin; with -t on a pty
//                                whose master the daemon holds, its bytes raw both ways (one stream, as a
//                                terminal has); with -d it starts, and the answer is a plain 200
//   POST /exec/{id}/resize       the pty takes the client's window size
//   GET  /exec/{id}/json         how it ended: ExitCode, which `docker exec` exits with
//
// The process is the daemon's child (docker's is its shim's): the daemon ends it when it stops, so that nothing
// is left writing into pipes nobody reads. The container runs on.
import fs from 'node:fs';
import net from 'node:net';
import tty from 'node:tty';
import type { Duplex } from 'node:stream';
import type { ContainerRecord } from '../container.js';
import { EXIT_CODES, exitCodeOf } from '../errors.js';
import { startExec } from '../containers/exec-in.js';
import { statusCode, type StartedChild } from '../kernel/child.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { framed } from './stream.js';
import { checkTerminalSize, lookUp } from './containers.js';
import { Fields } from './create-body.js';
import type { ExecInstance } from './execs.js';
import {
  badRequest, conflict, messageOf, notFound, readJsonBody, sendEmpty, sendJson, type DaemonRequest, type HijackedRequest,
} from './http.js';

/** Largest start body read off a hijacked connection ({"Detach":false,"Tty":false} is 28 bytes). */
const MAX_START_BODY_BYTES = 64 * 1024;

/** POST /containers/{id}/exec: the body's process, checked now, run on start. */
export async function createExec(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  refuseUnlessRunning(container);
  const body = new Fields(await readJsonBody(request.req), '');
  const command = body.words('Cmd') ?? [];
  if (command.length === 0) throw badRequest('No exec command specified');
  if (body.flag('Privileged')) throw badRequest('tsrun cannot run a privileged exec yet — drop --privileged');
  const instance = request.execs.add({
    containerId: container.id,
    request: {
      command,
      env: body.texts('Env'),
      user: body.text('User') || undefined,
      workdir: body.text('WorkingDir') || undefined,
      interactive: body.flag('AttachStdin'),
      tty: body.flag('Tty'),
    },
    attach: { stdout: body.flag('AttachStdout'), stderr: body.flag('AttachStderr') },
  });
  sendJson(request.res, 201, { Id: instance.id });
}

/** GET /exec/{id}/json: `docker exec` exits with ExitCode (null while it runs). */
export function inspectExec({ execs, params, res }: DaemonRequest): void {
  const instance = findExec(execs, params.id!);
  const [entrypoint, ...args] = instance.request.command;
  sendJson(res, 200, {
    ID: instance.id,
    Running: instance.running,
    ExitCode: instance.exitCode,
    ProcessConfig: { tty: instance.request.tty, entrypoint, arguments: args, privileged: false, ...(instance.request.user ? { user: instance.request.user } : {}) },
    OpenStdin: instance.request.interactive,
    OpenStderr: instance.attach.stderr,
    OpenStdout: instance.attach.stdout,
    CanRemove: false,
    ContainerID: instance.containerId,
    DetachKeys: '',
    Pid: instance.pid ?? 0,
  });
}

/** POST /exec/{id}/resize?h=ROWS&w=COLUMNS: the exec's pty takes the size. The CLI sends it right after the 101,
 *  which may be before the pty exists: the size is kept, and the pty given it when it comes. Without a
 *  terminal, 200 and nothing to do, as a container's resize (containers.ts). */
export function resizeExec({ runtime, execs, params, query, res }: DaemonRequest): void {
  checkTerminalSize(query);
  const instance = findExec(execs, params.id!);
  instance.size = { rows: Number(query.get('h')), cols: Number(query.get('w')) };
  fitTerminal(runtime.sys, instance);
  sendEmpty(res, 200);
}

/** Docker's 404 when there is no such instance (or it ended long ago). */
function findExec(execs: DaemonRequest['execs'], id: string): ExecInstance {
  const found = execs.get(id);
  if (!found) throw notFound(`No such exec instance: ${id}`);
  return found;
}

/** Docker's 409s: an exec joins processes that are there and running. */
function refuseUnlessRunning(container: ContainerRecord): void {
  if (container.state.status === 'paused') throw conflict(`Container ${container.id} is paused, unpause the container before exec`);
  if (container.state.status !== 'running') throw conflict(`Container ${container.id} is not running`);
}

/** The instance the path names, never started, and its container, running. */
async function startable(request: DaemonRequest | HijackedRequest): Promise<{ instance: ExecInstance; container: ContainerRecord }> {
  const instance = findExec(request.execs, request.params.id!);
  if (instance.exitCode !== null) throw conflict(`Error: Exec command ${instance.id} has already run`);
  if (instance.running) throw conflict(`Error: Exec command ${instance.id} is already running`);
  const container = await lookUp({ runtime: request.runtime, params: { id: instance.containerId } });
  refuseUnlessRunning(container);
  return { instance, container };
}

/** The instance's process, started on `stdio` (-1: /dev/null); its exit code to come, which the instance records.
 *  One that cannot start is thrown, the instance ended as dockerd ends it: 127 for a command not found, 126 for
 *  anything else (a command not executable, a user not there …). */
async function launch(request: DaemonRequest | HijackedRequest, instance: ExecInstance, container: ContainerRecord, stdio: [number, number, number]): Promise<{ exited: Promise<number>; started: StartedChild }> {
  instance.running = true;
  try {
    const started = await startExec(request.runtime, container, instance.request, stdio, (pid) => { instance.pid = pid; });
    const exited = started.exited.then(statusCode);
    void exited.then((code) => request.execs.ended(instance, code));
    return { exited, started };
  } catch (error) {
    request.execs.ended(instance, exitCodeOf(error) === EXIT_CODES['not-found'] ? EXIT_CODES['not-found'] : EXIT_CODES['cannot-exec']);
    throw error;
  }
}

/** POST /exec/{id}/start {"Detach": true}, no upgrade: `docker exec -d`; its output goes nowhere, as Docker's. */
export async function startDetachedExec(request: DaemonRequest): Promise<void> {
  const body = new Fields(await readJsonBody(request.req), '');
  if (!body.flag('Detach')) throw badRequest('this endpoint takes the connection over: send "Connection: Upgrade" and "Upgrade: tcp"');
  const { instance, container } = await startable(request);
  await launch(request, instance, container, [-1, -1, -1]);
  sendEmpty(request.res, 200);
}

// #region exec-start
/** POST /exec/{id}/start with the upgrade headers: `101 UPGRADED`, then the process's output, framed as an attach's
 *  (raw with -t), until it has exited and its output is drained. A command that cannot start is told on the
 *  stream, as dockerd does, and GET /exec/{id}/json has its 127 or 126. */
export async function startAttachedExec(request: HijackedRequest): Promise<void> {
  const early = await startBody(request); // before the 101: a bad body is a plain 400
  const { instance, container } = await startable(request);
  request.upgrade();
  await (instance.request.tty ? onTerminal : onPipes)(request, instance, container, early);
}

/** Without -t: a pipe for each stream the client attached, relayed; stdout and stderr framed apart. */
async function onPipes(request: HijackedRequest, instance: ExecInstance, container: ContainerRecord, early: Buffer): Promise<void> {
  const { runtime, socket, signal } = request;
  const pipe = (wanted: boolean) => (wanted ? runtime.sys.pipe() : [-1, -1] as const);
  const [stdinRead, stdinWrite] = pipe(instance.request.interactive);
  const [stdoutRead, stdoutWrite] = pipe(instance.attach.stdout);
  const [stderrRead, stderrWrite] = pipe(instance.attach.stderr);
  const output = ([[stdoutRead, 'stdout'], [stderrRead, 'stderr']] as const).map(([fd, stream]) =>
    (fd < 0 ? Promise.resolve() : relayOutput(new net.Socket({ fd, writable: false }), socket, (chunk) => framed(stream, chunk))));
  const input = stdinWrite >= 0 ? new net.Socket({ fd: stdinWrite, readable: false }) : undefined;
  if (input) relayInput(early, socket, input, true);
  else socket.resume(); // read, and dropped: so that the client's going away is seen
  try {
    let exited: Promise<number>;
    try {
      ({ exited } = await launch(request, instance, container, [stdinRead, stdoutWrite, stderrWrite]));
    } finally {
      for (const fd of [stdinRead, stdoutWrite, stderrWrite]) if (fd >= 0) fs.closeSync(fd); // the process has its own
    }
    await untilAborted(Promise.all([exited, ...output]), signal);
  } catch (error) {
    if (!socket.destroyed) socket.write(framed('stdout', Buffer.from(`${messageOf(error)}\n`)));
  } finally {
    input?.destroy();
    socket.end();
  }
}
// #endregion

// #region exec-terminal
/** With -t: the process on a pty of its own, as `tsrun exec -t` starts it (src/containers/exec-in.ts), whose master
 *  the daemon holds (a detached `run -t`'s is held by its monitor: attach.ts). The master's bytes go onto the
 *  connection and the client's into it, raw: a terminal has one stream, and its line discipline, not the daemon,
 *  turns the client's Ctrl-C into a SIGINT. The master reads EIO once the last process holding the pty has gone. */
async function onTerminal(request: HijackedRequest, instance: ExecInstance, container: ContainerRecord, early: Buffer): Promise<void> {
  const { runtime, socket, signal } = request;
  let master: tty.ReadStream | undefined;
  try {
    const { exited, started } = await launch(request, instance, container, [-1, -1, -1]);
    master = new tty.ReadStream(started.ptyFd);
    instance.pty = started.ptyFd;
    master.on('close', () => { instance.pty = null; }); // the fd's number may be another file's from then on
    fitTerminal(runtime.sys, instance);
    if (instance.request.interactive) relayInput(early, socket, master, false);
    else socket.resume();
    await untilAborted(Promise.all([exited, relayOutput(master, socket, (chunk) => chunk)]), signal);
  } catch (error) {
    if (!socket.destroyed) socket.write(`${messageOf(error)}\r\n`);
  } finally {
    master?.destroy();
    socket.end();
  }
}
// #endregion

/** The pty takes the size the client last asked for, if it has asked and the pty is there. */
function fitTerminal(sys: Syscalls, instance: ExecInstance): void {
  if (instance.pty !== null && instance.size) sys.ioctl_TIOCSWINSZ(instance.pty, instance.size.rows, instance.size.cols);
}

/** The start body ({"Detach":false,"Tty":false}) comes on the hijacked connection itself, Content-Length bytes
 *  ahead of the client's input: read, checked, and what follows it returned, the input's first bytes. */
async function startBody({ req, head, socket }: HijackedRequest): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_START_BODY_BYTES) throw badRequest('the start body\'s Content-Length is not one tsrun reads');
  const bytes = head.length >= length ? head : await new Promise<Buffer>((resolve, reject) => {
    const chunks = [head];
    let size = head.length;
    const more = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= length) settle(() => resolve(Buffer.concat(chunks)));
    };
    const cut = () => settle(() => reject(badRequest('the start body ended before its Content-Length')));
    const settle = (finish: () => void) => {
      socket.off('data', more).off('end', cut).off('close', cut).pause();
      finish();
    };
    socket.on('data', more).on('end', cut).on('close', cut);
  });
  const text = bytes.subarray(0, length).toString('utf8');
  let detach: unknown;
  try {
    detach = text.trim() === '' ? false : (JSON.parse(text) as { Detach?: unknown }).Detach;
  } catch (error) {
    throw badRequest(`the request body is not JSON: ${(error as Error).message}`);
  }
  if (detach === true) throw badRequest('Detach starts an exec without taking the connection over: send it without the upgrade headers');
  return bytes.subarray(length);
}

/** The process's output (a pipe, or the pty's master), each read written onto the connection as `wrap` makes it;
 *  done when every writer has closed it. A client that has gone is written nothing, but the output is still
 *  drained: the process must not block on it. */
function relayOutput(from: net.Socket, to: Duplex, wrap: (chunk: Buffer) => Buffer): Promise<void> {
  return new Promise((resolve) => {
    from.on('data', (chunk: Buffer) => {
      if (to.destroyed || to.write(wrap(chunk))) return;
      from.pause(); // as fast as the client reads: a process that writes faster waits in its pipe
      const resume = () => { to.off('drain', resume).off('close', resume); from.resume(); };
      to.on('drain', resume).on('close', resume);
    });
    from.on('error', () => {});
    from.on('close', () => resolve());
  });
}

/** The client's bytes into the process's stdin or its pty (raw, never framed). The client's half-close closes a
 *  stdin (`ends`); a terminal's input has no end but the ^D its user types. */
function relayInput(early: Buffer, from: Duplex, to: net.Socket, ends: boolean): void {
  to.on('error', () => {}); // the process may have closed its stdin, or be gone
  if (early.length > 0) to.write(early);
  from.on('data', (chunk: Buffer) => to.write(chunk));
  if (ends) from.on('end', () => to.end());
  from.resume();
}

/** `work`, or nothing once the client has gone or the daemon stops (the process then runs on, or is killed). */
function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener('abort', resolve, { once: true });
  })]);
}
