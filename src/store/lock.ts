// Concurrent tsrun processes take an exclusive flock(2) on <root>/lock while
// they change the store. The kernel releases it if tsrun dies, so a crash
// never leaves the store locked.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Syscalls } from '../kernel/syscalls.js';
import { fail } from '../errors.js';

const RETRY_MS = 10;
const GIVE_UP_MS = 60_000;

export async function withLock<T>(sys: Syscalls, lockFile: string, work: () => Promise<T> | T): Promise<T> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  // (libuv opens every file close-on-exec, so no container inherits the lock)
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    const started = Date.now();
    // Non-blocking attempts in a loop, so a held lock never blocks Node's event loop.
    while (!sys.flock(fd, 'LOCK_EX', true)) {
      if (Date.now() - started > GIVE_UP_MS) {
        throw fail(`the store ${path.dirname(lockFile)} stayed locked for ${GIVE_UP_MS / 1000}s`, 'another tsrun is busy with it; try again when it has finished');
      }
      await sleep(RETRY_MS);
    }
    return await work();
  } finally {
    fs.closeSync(fd); // closing the descriptor releases the lock
  }
}
