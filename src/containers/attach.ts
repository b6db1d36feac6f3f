// `tsrun attach CONTAINER`: a terminal joins a detached container's streams.
// Its output is the monitor's log, followed from now on; its input, for a
// container run with -d -i, goes into the FIFO the container reads as stdin.
// Signals go to the container (docker's --sig-proxy), and attach ends with
// the container, returning its exit code; or, on a terminal, when the user
// types the detach keys (ctrl-p ctrl-q), leaving the container running.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isUp, type ContainerRecord } from '../container.js';
import type { Runtime } from '../runtime.js';
import { fail } from '../errors.js';
import { containerRunDir } from '../store/paths.js';
import { readLogs } from './logs.js';
import { gone, waitForExit } from './stop.js';
import { getContainer } from '../store/containers.js';
import { reconcile } from './reconcile.js';
import { DEFAULT_DETACH_KEYS, DetachWatcher, parseDetachKeys } from './detach-keys.js';

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

// #region attach
export async function attach(runtime: Runtime, record: ContainerRecord, options: { stdin: boolean; detachKeys?: string }): Promise<number> {
  const keys = parseDetachKeys(options.detachKeys ?? DEFAULT_DETACH_KEYS);
  const container = await reconcile(runtime, record);
  if (!container || !isUp(container.state)) throw fail(`container ${record.name} is not running`, 'start it first, or read what it wrote with `tsrun logs`');
  const input = options.stdin && container.config.interactive ? openInput(runtime, container.id) : undefined;
  // A container with a terminal (-d -t): this terminal passes every key on as it is, and lends it its size; but the
  // detach keys let go of the container, which runs on.
  const terminal = container.config.tty && process.stdin.isTTY && process.stdout.isTTY;
  let detached = false;
  const watcher = new DetachWatcher(terminal ? keys : []);
  const type = (chunk: Buffer) => {
    const { forward, detach } = watcher.take(chunk);
    if (forward.length > 0) input!.write(forward);
    detached ||= detach;
  };
  const endInput = () => input!.end(); // the end of what is piped in ends the container's input (StdinOnce)
  if (input) process.stdin.on('data', type).once('end', endInput);
  const fitSize = () => resizeTerminal(runtime, container.id, process.stdout.rows, process.stdout.columns);
  if (terminal) {
    process.stdin.setRawMode(true);
    fitSize();
    process.stdout.on('resize', fitSize);
  }
  const proxy = (signal: NodeJS.Signals) => { try { process.kill(container.state.pid!, signal); } catch { /* it has exited */ } };
  for (const signal of PROXIED_SIGNALS) process.on(signal, proxy);
  try {
    let shown = readLogs(runtime.paths, container).length; // from now on: what was written before is `tsrun logs`
    for (;;) {
      const now = await reconcile(runtime, getContainer(runtime.paths, container.id));
      const up = now !== null && isUp(now.state);
      const entries = readLogs(runtime.paths, container);
      for (const entry of entries.slice(shown)) (entry.stream === 'stderr' ? process.stderr : process.stdout).write(entry.log);
      shown = entries.length;
      if (!up) break;
      if (detached) {
        process.stderr.write('read escape sequence\n'); // Docker's words, and its exit code 1
        return 1;
      }
      await sleep(50);
    }
    return (await waitForExit(runtime, container.id) ?? gone(container.name)).state.exitCode ?? 0;
  } finally {
    if (terminal) {
      process.stdout.off('resize', fitSize);
      process.stdin.setRawMode(false);
    }
    for (const signal of PROXIED_SIGNALS) process.off(signal, proxy);
    if (input) {
      process.stdin.off('data', type).off('end', endInput);
      process.stdin.pause();
      input.destroy();
    }
  }
}
// #endregion

/** A detached container's terminal takes a new size: its monitor reads "ROWS COLS" lines from the console FIFO and
 *  sets it (native/src/monitor.cc). Not waiting: a monitor that has gone has no reader, and the size no longer matters. */
export function resizeTerminal(runtime: Runtime, id: string, rows: number, cols: number): void {
  try {
    const fd = fs.openSync(path.join(containerRunDir(runtime.paths, id), 'console'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, `${rows} ${cols}\n`);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no terminal, or no monitor any more
  }
}

/** The FIFO a container run with -i reads as its stdin (src/stages/exec.ts), opened to be written into; undefined
 *  when it has none. Not waiting for a reader: a container that has exited already has none (ENXIO), and a
 *  blocking open would wait for good. Written as a socket is, without blocking either. Closing it ends the input
 *  of a container made with StdinOnce (its monitor lets go of its own end then: native/src/monitor.cc). */
export function openInput(runtime: Runtime, id: string): net.Socket | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path.join(containerRunDir(runtime.paths, id), 'stdin'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const input = new net.Socket({ fd, readable: false });
  input.on('error', () => {}); // the container may be gone before its last input is written
  return input;
}
