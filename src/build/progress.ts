// What `tsrun build` prints on stderr, in the shape of BuildKit's plain progress (`docker build
// --progress=plain`): each step a numbered block, its output lines prefixed by the seconds since it started,
// then CACHED or DONE with its time.
//
//   #3 [2/4] COPY app.sh /app/
//   #3 DONE 0.0s
//
//   #4 [3/4] RUN ./app/setup.sh
//   #4 0.112 setting up
//   #4 DONE 0.4s
//
// With -q nothing is printed; a failing RUN's output is then shown with the error.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';

export class Progress {
  private count = 0;

  constructor(private readonly write: (text: string) => void, readonly quiet: boolean) {}

  /** A new numbered block: "#N label". */
  step(label: string): StepProgress {
    const step = new StepProgress(++this.count, label, this.quiet ? () => {} : this.write);
    step.line(label);
    return step;
  }

  warn(text: string): void {
    if (!this.quiet) this.write(`WARNING: ${text}\n`);
  }
}

export class StepProgress {
  private readonly started = performance.now();

  constructor(readonly number: number, readonly label: string, private readonly write: (text: string) => void) {}

  line(text: string): void {
    this.write(`#${this.number} ${text}\n`);
  }

  cached(): void {
    this.line('CACHED');
    this.write('\n');
  }

  done(): void {
    this.line(`DONE ${this.seconds().toFixed(1)}s`);
    this.write('\n');
  }

  error(message: string): void {
    this.line(`ERROR: ${message}`);
    this.write('\n');
  }

  /** Seconds since the step started. */
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}

// #region output-pipe
/** A pipe for a RUN's stdout and stderr: the container writes `fd`, and each line it writes is printed in the
 *  step's block as it comes. A FIFO, since Node opens no anonymous pipe: made, opened at both ends, and unlinked
 *  at once. `finish()`, once the container has exited (or was never made), closes tsrun's end and returns all
 *  the output. */
export function outputPipe(sys: Syscalls, step: StepProgress): { fd: number; finish: () => Promise<string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-build-'));
  let readFd: number;
  let fd: number;
  try {
    const fifo = path.join(dir, 'output');
    sys.mknod(fifo, fs.constants.S_IFIFO | 0o600, 0, 0);
    readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    fd = fs.openSync(fifo, fs.constants.O_WRONLY);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const reader = new net.Socket({ fd: readFd, readable: true, writable: false });
  let all = '';
  let partial = '';
  reader.setEncoding('utf8');
  reader.on('data', (text: string) => {
    all += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) step.line(`${step.seconds().toFixed(3)} ${line}`);
  });
  const ended = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  let finished: Promise<string> | undefined;
  return {
    fd,
    // Once, however often it is asked: a failing RUN reads the output, and cleaning up asks again.
    finish: () => finished ??= (async () => {
      fs.closeSync(fd); // the container's copy closed when it exited: now the reader sees the end
      await ended;
      if (partial !== '') step.line(`${step.seconds().toFixed(3)} ${partial}`);
      return all;
    })(),
  };
}
// #endregion
