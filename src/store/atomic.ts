// Nothing in the store is ever half-written: files and directories are made
// under <root>/tmp and renamed into place, which is atomic on one filesystem.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { isRunningProcess, processStartTime } from '../kernel/proc.js';

/** Write `data` to `file` via a temporary sibling and rename(2). */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    const fd = fs.openSync(temp, 'wx', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

export function writeJsonAtomic(file: string, value: unknown, mode = 0o644): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode);
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

// #region staging-dirs
/** A fresh staging directory under `tmpRoot`, removed by the caller when done. Its name says whose it is
 *  (pid and start time), so that the next one made finds and removes those of a tsrun killed half-way
 *  through a pull, a load or a commit, which no caller is left to remove. */
export function makeStagingDir(tmpRoot: string, label: string): string {
  fs.mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
  for (const name of fs.readdirSync(tmpRoot)) {
    const owner = /-(\d+)\.(\d+)-[^-]+$/.exec(name);
    if (owner && !isRunningProcess(Number(owner[1]), Number(owner[2]))) fs.rmSync(path.join(tmpRoot, name), { recursive: true, force: true });
  }
  return fs.mkdtempSync(path.join(tmpRoot, `${label}-${process.pid}.${processStartTime(process.pid)}-`));
}
// #endregion
