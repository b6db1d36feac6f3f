// Nothing in the store is ever half-written: files and directories are made
// under <root>/tmp and renamed into place, which is atomic on one filesystem.
// A temporary name carries its maker, "<pid>.<start time>": `tsrun system check`
// tells what a running tsrun is still building from what a dead one left behind.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { isRunningProcess, processStartTime } from '../kernel/proc.js';

let maker: string | undefined;
/** "<pid>.<start time>" of this process, read from /proc once, when first needed. */
function makerTag(): string {
  return maker ??= `${process.pid}.${processStartTime(process.pid) ?? 0}`;
}

/** Whether the process that made this temporary name (a writeFileAtomic temp, a staging directory) still runs.
 *  False for a name without a maker: only a dead tsrun's leftovers look like that. */
export function makerIsRunning(name: string): boolean {
  const match = /-(\d+)\.(\d+)-[^-]+$/.exec(name);
  return match !== null && isRunningProcess(Number(match[1]), Number(match[2]) || null);
}

/** What every writeFileAtomic temp file has in its name. */
export const TEMP_MARK = '.tmp-';

/** Write `data` to `file` via a temporary sibling and rename(2). */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  writeFilesAtomic([{ file, data, mode }]);
}

/** Change several files together: each is written to its temporary sibling first (a full disk fails there,
 *  before any file has changed, and the temporaries go), then all are renamed into place, in the order given. */
export function writeFilesAtomic(files: { file: string; data: string | Uint8Array; mode?: number }[]): void {
  const temps: string[] = [];
  try {
    for (const { file, data, mode } of files) temps.push(writeTemporary(file, data, mode ?? 0o644));
    files.forEach(({ file }, i) => fs.renameSync(temps[i]!, file));
  } catch (error) {
    for (const temp of temps) fs.rmSync(temp, { force: true }); // those renamed already are not there
    throw error;
  }
}

/** `data`, written and flushed to a new temporary sibling of `file`; returns the sibling's name. */
function writeTemporary(file: string, data: string | Uint8Array, mode: number): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}${TEMP_MARK}${makerTag()}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    const fd = fs.openSync(temp, 'wx', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return temp;
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

export function writeJsonAtomic(file: string, value: unknown, mode = 0o644): void {
  writeFileAtomic(file, jsonText(value), mode);
}

/** A value as the store writes JSON: indented, one newline at the end. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
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
    if (/-\d+\.\d+-[^-]+$/.test(name) && !makerIsRunning(name)) fs.rmSync(path.join(tmpRoot, name), { recursive: true, force: true });
  }
  return fs.mkdtempSync(path.join(tmpRoot, `${label}-${makerTag()}-`));
}
// #endregion
