// `tsrun logs`: a detached container's output, from the log its monitor writes
// in Docker's json-file format, one JSON object per line of output:
//
//   {"log":"hello\n","stream":"stdout","time":"2026-11-23T12:00:00.123456789Z"}
//
// The file is rotated at a size (LOG.1 holds the older part), so both are read, older first.
import fs from 'node:fs';
import path from 'node:path';
import { containerDir, type StorePaths } from '../store/paths.js';
import type { ContainerRecord } from '../container.js';

export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export const logPath = (paths: StorePaths, container: ContainerRecord) => path.join(containerDir(paths, container.id), `${container.id}-json.log`);

// #region read-logs
/** Every entry so far, oldest first; with `since` (ISO time), only those at or after it. */
export function readLogs(paths: StorePaths, container: ContainerRecord, since?: string): LogEntry[] {
  const file = logPath(paths, container);
  return [...rotatedEntries(file), ...parseLog(readIfThere(file))].filter((entry) => since === undefined || entry.time >= since);
}
// #endregion

/** The entries of the part of the log rotated away (`LOG.1`), if there is one. */
export function rotatedEntries(file: string): LogEntry[] {
  return parseLog(readIfThere(`${file}.1`));
}

/** Complete lines only: the monitor may be half-way through writing the last one. */
export function parseLog(text: string): LogEntry[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogEntry);
}

/** An entry as `docker logs` prints it: the text, with `-t` its time in front. */
export function formatEntry(entry: LogEntry, timestamps: boolean): string {
  return timestamps ? `${entry.time} ${entry.log}` : entry.log;
}

function readIfThere(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
