// POST /containers/{id}/attach: the connection becomes the container's terminal line. The daemon answers
// `101 UPGRADED` and stops speaking HTTP: from then on the socket carries the container's output one way and its
// input the other, raw bytes, until the container exits and the daemon closes its side.
//
// `docker run` attaches before it starts the container, so that no output is lost: output is read from the
// container's json-file log (the monitor writes it) from the moment of the attach, and followed until the run
// ends. Input (with -i) may arrive before the container exists to read it: it waits here until the start, then
// goes into the FIFO the monitor gave the container as its stdin. The client half-closes the socket when its
// input ends (at once, without -i): that ends the container's input only; the output goes on.
import fs from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { logPath } from '../containers/logs.js';
import { openInput } from '../containers/attach.js';
import { lookUp } from './containers.js';
import { LogFollower, followRun, onTheWire, writeAll } from './stream.js';
import { queryFlag, type HijackedRequest } from './http.js';

// #region attach
export async function attach(request: HijackedRequest): Promise<void> {
  const { runtime, runs, socket, query, signal } = request;
  const container = await lookUp(request); // before the 101: a missing container is a plain 404
  request.upgrade();
  const streams = new Set([queryFlag(query, 'stdout') && 'stdout', queryFlag(query, 'stderr') && 'stderr']);
  const input = queryFlag(query, 'stdin') && container.config.interactive ? new Input(request.head, socket) : undefined;
  if (!input) socket.resume(); // read, and dropped: so that the client's going away is seen
  const file = logPath(runtime.paths, container);
  fs.closeSync(fs.openSync(file, 'a', 0o640)); // made as the monitor makes it, if this is the first start
  const output = new LogFollower(file, queryFlag(query, 'logs') ? 'start' : 'end');
  try {
    const run = (await runs.current(container.id)) ?? (await runs.next(container.id, signal));
    if (!run) return; // removed before it ran
    input?.into(openInput(runtime, container.id));
    const options = { tty: container.config.tty, timestamps: false };
    await followRun(output, run, signal, (entries) => writeAll(socket, entries.filter((entry) => streams.has(entry.stream)).map((entry) => onTheWire(entry, options))));
  } finally {
    output.close();
    input?.close();
    socket.end();
  }
}
// #endregion

/** The client's bytes for the container's stdin: kept until the container has started, then written into its FIFO. */
class Input {
  private early: Buffer[] | undefined = [];
  private fifo: net.Socket | undefined;
  private ended = false;

  constructor(head: Buffer, socket: Duplex) {
    if (head.length > 0) this.early!.push(head);
    socket.on('data', (chunk: Buffer) => (this.early ? this.early.push(chunk) : this.fifo?.write(chunk)));
    socket.on('end', () => this.close()); // the client's half-close: the end of its input, not of the attach
  }

  /** The container's stdin FIFO; undefined when the container has gone already, and its input is dropped. */
  into(fifo: net.Socket | undefined): void {
    for (const chunk of this.early!) fifo?.write(chunk);
    this.early = undefined;
    this.fifo = fifo;
    if (this.ended) fifo?.end();
  }

  close(): void {
    this.ended = true;
    this.fifo?.end();
  }
}
