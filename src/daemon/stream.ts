// A container's output on the wire, read from the json-file log its monitor writes.
//
// Without a terminal, stdout and stderr share one connection, so each piece goes in a frame of its own
// (Docker's "multiplexed stream"): an 8-byte header, [stream, 0, 0, 0, size as uint32 big-endian], then `size`
// bytes; stream 1 is stdout, 2 stderr. `docker run`, `docker logs` and `docker start -a` read it so; with a
// terminal (Config.Tty) the bytes go as they are, as the terminal wrote them.
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLog, type LogEntry } from '../containers/logs.js';
import type { Run } from './runs.js';

const POLL_MS = 50;

// #region frame
export function frame(entry: LogEntry): Buffer {
  return framed(entry.stream, Buffer.from(entry.log, 'utf8'));
}

/** Bytes as they came from a pipe (an exec's output), in one frame. */
export function framed(stream: LogEntry['stream'], data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
// #endregion

/** An entry as the client reads it: framed unless the container has a terminal; with its time in front if asked. */
export function onTheWire(entry: LogEntry, options: { tty: boolean; timestamps: boolean }): Buffer {
  const shown = options.timestamps ? { ...entry, log: `${entry.time} ${entry.log}` } : entry;
  return options.tty ? Buffer.from(shown.log, 'utf8') : frame(shown);
}

// #region follow-log
/** A json-file log read as it grows, through a descriptor of its own: a `--rm` container's log is deleted with it
 *  moments after it exits, but what was opened can still be read to the end. When the monitor rotates the log
 *  (it closes the file, renames it LOG.1 and opens a new LOG), the old file is read to its end, then the new one. */
export class LogFollower {
  private fd: number;
  private offset: number;
  /** The start of a line not yet complete (bytes: a character may be cut in two as well). */
  private partial = Buffer.alloc(0);

  /** From the log's beginning, or from its end: what is written from now on. */
  constructor(private readonly file: string, from: 'start' | 'end') {
    this.fd = fs.openSync(file, 'r');
    this.offset = from === 'start' ? 0 : fs.fstatSync(this.fd).size;
  }

  /** The entries written since the last call, complete lines only. */
  read(): LogEntry[] {
    const bytes = this.drain();
    if (bytes.length === 0 && this.rotated()) {
      fs.closeSync(this.fd);
      this.fd = fs.openSync(this.file, 'r');
      this.offset = 0;
      return this.read();
    }
    const all = Buffer.concat([this.partial, bytes]);
    const end = all.lastIndexOf(0x0a) + 1;
    this.partial = all.subarray(end);
    return parseLog(all.toString('utf8', 0, end));
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private drain(): Buffer {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const got = fs.readSync(this.fd, buffer, 0, buffer.length, this.offset);
      if (got === 0) return Buffer.concat(chunks);
      chunks.push(Buffer.from(buffer.subarray(0, got)));
      this.offset += got;
    }
  }

  /** Another file has the log's name now (a rotation; not a removal, after which the name leads nowhere). */
  private rotated(): boolean {
    try {
      return fs.statSync(this.file).ino !== fs.fstatSync(this.fd).ino;
    } catch {
      return false;
    }
  }
}
// #endregion

/** Send what the container writes until its run ends (or the client goes, or the daemon stops). Once the run has
 *  ended, the log is read once more: the monitor has written all of it before the exit was known. */
export async function followRun(output: LogFollower, run: Run, signal: AbortSignal, send: (entries: LogEntry[]) => Promise<void>): Promise<void> {
  let ended = false;
  void run.exited.then(() => { ended = true; }, () => {});
  for (;;) {
    const last = ended;
    await send(output.read());
    if (last || signal.aborted) return;
    await Promise.race([sleep(POLL_MS, undefined, { ref: false }), run.exited]);
  }
}

/** Written as fast as the client reads: a container that writes faster waits in its log, not in the daemon's memory. */
export async function writeAll(to: Writable, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    if (to.destroyed) return;
    if (!to.write(chunk)) await new Promise((resolve) => { to.once('drain', resolve); to.once('close', resolve); });
  }
}
