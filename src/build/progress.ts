// What a build tells as it goes. The build says what happens (a step begins, prints a line, is taken from the
// cache, is done, fails; the image is written) and a Progress shows it in its own shape: `tsrun build` in the
// shape of BuildKit's plain progress (`docker build --progress=plain`), below; the daemon in the classic
// builder's, which the docker CLI prints (src/daemon/build.ts). Each step a numbered block, its output lines
// prefixed by the seconds since it started, then CACHED or DONE with its time:
//
//   #3 [2/4] COPY app.sh /app/
//   #3 DONE 0.0s
//
//   #4 [3/4] RUN ./app/setup.sh
//   #4 0.112 setting up
//   #4 DONE 0.4s
//
// With -q nothing is printed but a failing step's block.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Syscalls } from '../kernel/syscalls.js';

/** Where a step is in the build: its stage (named when there are several), its number there, and its number
 *  among all the steps this build takes. */
export interface StepPlace {
  stage?: string;
  n: number;
  of: number;
  overall: number;
  total: number;
}

export interface Progress {
  /** The classic builder shows each ARG of a stage as a step of its own (dockerd makes a container for it);
   *  BuildKit's plain progress counts no ARG. */
  readonly argsAreSteps?: boolean;
  /** A step begins: `text` is its instruction; no place for the settings a build adds at its end (--label). */
  step(text: string, place?: StepPlace): StepProgress;
  warn(text: string): void;
  /** The image is in the store, with these names. */
  exported(id: string, tags: string[]): void;
}

export interface StepProgress {
  /** A line about the step (a pull's progress). */
  line(text: string): void;
  /** A line the step's process wrote. */
  output(text: string): void;
  /** Taken from the cache: image `id`, made by an earlier build. */
  cached(id: string): void;
  /** Made now: image `id`. */
  done(id: string): void;
  error(message: string): void;
  /** A container runs the step (a RUN's): made, and removed once its changes are committed (or it failed). The
   *  classic builder names it; BuildKit's plain progress does not, and leaves these out. */
  containerCreated?(id: string): void;
  containerRemoved?(id: string): void;
}

export class PlainProgress implements Progress {
  private count = 0;

  constructor(private readonly write: (text: string) => void, private readonly quiet: boolean) {}

  step(text: string, place?: StepPlace): StepProgress {
    const where = place === undefined ? '' : `[${place.stage === undefined ? '' : `${place.stage} `}${place.n}/${place.of}] `;
    return new PlainStep(++this.count, `${where}${text}`, this.write, this.quiet);
  }

  warn(text: string): void {
    if (!this.quiet) this.write(`WARNING: ${text}\n`);
  }

  exported(id: string, tags: string[]): void {
    const step = new PlainStep(++this.count, 'exporting to image', this.write, this.quiet);
    step.line(`writing image ${id} done`);
    for (const tag of tags) step.line(`naming to ${tag} done`);
    step.done();
  }
}

class PlainStep implements StepProgress {
  private readonly started = performance.now();
  /** With -q, the block so far: shown only if the step fails. */
  private held = '';

  constructor(private readonly number: number, label: string, private readonly write: (text: string) => void, private readonly quiet: boolean) {
    this.line(label);
  }

  line(text: string): void {
    const line = `#${this.number} ${text}\n`;
    if (this.quiet) this.held += line;
    else this.write(line);
  }

  output(text: string): void {
    this.line(`${this.seconds().toFixed(3)} ${text}`);
  }

  cached(): void {
    this.end('CACHED');
  }

  done(): void {
    this.end(`DONE ${this.seconds().toFixed(1)}s`);
  }

  error(message: string): void {
    this.line(`ERROR: ${message}`);
    if (this.quiet) this.write(this.held);
    this.write('\n');
  }

  private end(text: string): void {
    this.line(text);
    if (!this.quiet) this.write('\n');
  }

  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}

// #region output-pipe
/** A pipe for a RUN's stdout and stderr: the container writes `fd`, and each line it writes is printed in the
 *  step's block as it comes. A FIFO, since Node opens no anonymous pipe: made, opened at both ends, and unlinked
 *  at once. `finish()`, once the container has exited (or was never made), closes tsrun's end and waits for the
 *  last line. */
export function outputPipe(sys: Syscalls, step: StepProgress): { fd: number; finish: () => Promise<void> } {
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
  let partial = '';
  reader.setEncoding('utf8');
  reader.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) step.output(line);
  });
  const ended = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  let finished: Promise<void> | undefined;
  return {
    fd,
    // Once, however often it is asked: a failing RUN's output is shown before its error, and cleaning up asks again.
    finish: () => finished ??= (async () => {
      fs.closeSync(fd); // the container's copy closed when it exited: now the reader sees the end
      await ended;
      if (partial !== '') step.output(partial);
    })(),
  };
}
// #endregion
