// Each container's run, as the daemon follows it: /wait and /attach both need to know when it ends, and how.
//
// The daemon is not the container's parent: tsrun-monitor is (so containers outlive the daemon), and when the
// container exits, the monitor writes the exit down in the run directory, then becomes `tsrun container-exited`,
// which records it and releases what the container held. With `docker run --rm` that removes the container,
// run directory and all, a few milliseconds after the exit: too soon for a daemon that looks now and then.
// So before a container starts, the daemon opens the file the monitor will write its exit into (the monitor
// opens exit.partial without replacing it, writes, and renames it to exit), and reads it through its own
// descriptor: an open file outlives its name.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isUp, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { startDetached } from '../run.js';
import { findContainer } from '../store/containers.js';
import { containerRunDir } from '../store/paths.js';
import { reconcile } from '../containers/reconcile.js';
import { claim } from '../containers/lifecycle.js';
import { exitCodeOf } from '../errors.js';
import type { Events } from './events.js';

const POLL_MS = 50;
/** The record is read once every this many polls until the exit note has the code (it costs more, and tells later). */
const RECORD_EVERY = 4;
/** `rm -f` kills a container with SIGKILL: 128 + 9, when it was removed before its exit could be read. */
const KILLED = 137;

export interface Run {
  /** The container's exit code, once it has exited (or failed to start: 127, 126, 125). */
  readonly exited: Promise<number>;
}

export class Runs {
  /** Runs in progress, by container id. */
  private readonly running = new Map<string, Run>();
  /** Who waits for a container's next run to begin. */
  private readonly awaited = new Map<string, Set<(run: Run) => void>>();

  constructor(private readonly runtime: Runtime, private readonly events: Events) {}

  // #region start
  /** Start the container in the background, as `tsrun start` does, and follow its run. */
  async start(container: ContainerRecord): Promise<void> {
    // Started by hand: the restart count begins anew. Claimed before the note is made (startDetached claims it
    // again): a run directory whose owner is gone is a dead start's leftover, which reconcile.ts removes.
    const claimed = claim(this.runtime, { ...container, state: { ...container.state, restartCount: 0 } });
    const note = openExitNote(this.runtime, container.id);
    try {
      await startDetached(this.runtime, claimed);
    } catch (error) {
      fs.closeSync(note);
      this.begin(container.id, { exited: Promise.resolve(exitCodeOf(error)) });
      throw error;
    }
    this.events.container('start', container);
    const exited = this.follow(container.id, note);
    this.begin(container.id, { exited });
    void exited.then(async (code) => {
      this.events.container('die', container, { exitCode: String(code) });
      if (container.config.autoRemove && await this.removed(container.id)) this.events.container('destroy', container);
    });
  }
  // #endregion

  /** The run in progress, if the container is up: the daemon's own, or one started elsewhere (`tsrun start`,
   *  or before the daemon started), which is followed through the container's record. */
  async current(id: string): Promise<Run | undefined> {
    const known = this.running.get(id);
    if (known) return known;
    const found = findContainer(this.runtime.paths, id);
    const container = found && await reconcile(this.runtime, found);
    if (!container || !isUp(container.state)) return undefined;
    const run = { exited: this.follow(id, null) };
    this.running.set(id, run);
    return run;
  }

  /** The container's next run, once it begins; undefined if the container is removed first. Rejected on `signal`. */
  next(id: string, signal: AbortSignal): Promise<Run | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.awaited.get(id) ?? new Set();
      this.awaited.set(id, waiters);
      const settle = (finish: () => void) => {
        waiters.delete(begun);
        if (waiters.size === 0 && this.awaited.get(id) === waiters) this.awaited.delete(id);
        finish();
      };
      const begun = (run: Run) => settle(() => resolve(run));
      waiters.add(begun);
      // Until then, the container may be removed without starting again, or the client go away.
      void (async () => {
        while (waiters.has(begun)) {
          if (signal.aborted) return settle(() => reject(new Error('the client went away')));
          if (!findContainer(this.runtime.paths, id)) return settle(() => resolve(undefined));
          await sleep(POLL_MS, undefined, { ref: false });
        }
      })();
    });
  }

  /** Whether the container is gone within a few seconds: a --rm container's exit command removes it a moment
   *  after the exit (unless a restart keeps it). */
  private async removed(id: string): Promise<boolean> {
    for (let poll = 0; poll < 100; poll++) {
      if (!findContainer(this.runtime.paths, id)) return true;
      await sleep(POLL_MS, undefined, { ref: false });
    }
    return false;
  }

  private begin(id: string, run: Run): void {
    this.running.set(id, run);
    void run.exited.then(() => {
      if (this.running.get(id) === run) this.running.delete(id);
    });
    for (const resolve of this.awaited.get(id) ?? []) resolve(run);
  }

  /** Until the container has exited, and its exit is recorded: whoever is told of it (a `docker wait`) finds the
   *  container exited, or gone, when it looks next. The code comes from the exit note if the daemon has one
   *  (a --rm container's record is gone by then), else from the record. */
  private async follow(id: string, note: number | null): Promise<number> {
    const noted = () => (note === null ? undefined : readExitNote(note));
    try {
      for (let poll = 0; ; poll++) {
        const code = noted();
        if (code !== undefined || poll % RECORD_EVERY === 0) {
          const found = findContainer(this.runtime.paths, id);
          const container = found && await reconcile(this.runtime, found);
          // Gone without a word from its monitor: removed with `rm -f`, which kills.
          if (!container) return noted() ?? KILLED;
          if (!isUp(container.state)) return noted() ?? container.state.exitCode ?? KILLED;
        }
        // Not a reason to keep the daemon alive when it is asked to stop: containers outlive it.
        await sleep(POLL_MS, undefined, { ref: false });
      }
    } finally {
      if (note !== null) fs.closeSync(note);
    }
  }
}

/** Made before the monitor exists, so that it writes into this very file (see the top of this file). */
function openExitNote(runtime: Runtime, id: string): number {
  const dir = containerRunDir(runtime.paths, id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return fs.openSync(path.join(dir, 'exit.partial'), 'w+', 0o644);
}

/** The exit code, once the monitor has written its line ("CODE SIGNAL TIME\n"). */
function readExitNote(fd: number): number | undefined {
  const buffer = Buffer.alloc(128);
  const text = buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
  return text.endsWith('\n') ? Number(text.split(' ')[0]) : undefined;
}
