// The other end of the daemon's frames (src/daemon/stream.ts): without a terminal, a container's stdout and stderr
// come on one connection, each piece behind an 8-byte header [stream, 0, 0, 0, size as uint32 big-endian]. A
// header or a piece may be split across the chunks the socket gives, so what is not whole yet is kept.
import type { Readable, Writable } from 'node:stream';

export interface Frame {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

const HEADER_BYTES = 8;

// #region frames
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames `chunk` completes, in order. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      // Stream 0 is stdin, which a daemon never sends back; 2 is stderr, anything else is shown as stdout.
      const stream = this.pending[0] === 2 ? 'stderr' : 'stdout';
      frames.push({ stream, data: this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size) });
      this.pending = this.pending.subarray(HEADER_BYTES + size);
    }
    return frames;
  }
}
// #endregion

/** A container's output as it comes from the daemon (an attach, an exec, logs), onto this process's stdout and
 *  stderr: demultiplexed, or as it is when the container has a terminal. Resolves when the daemon ends it. */
export function printOutput(from: Readable, tty: boolean): Promise<void> {
  const frames = new FrameReader();
  from.on('data', (chunk: Buffer) => {
    if (tty) process.stdout.write(chunk);
    else for (const frame of frames.push(chunk)) (frame.stream === 'stderr' ? process.stderr : process.stdout).write(frame.data);
  });
  return new Promise((resolve, reject) => {
    from.on('end', resolve).on('close', resolve).on('error', reject);
  });
}

/** With -i, this process's stdin goes to the container, and its end half-closes the connection; without, the
 *  half-close comes at once, which tells the daemon no input will come (the output still does). */
export function sendInput(stream: Writable, interactive: boolean): void {
  if (interactive) process.stdin.pipe(stream);
  else stream.end();
}
