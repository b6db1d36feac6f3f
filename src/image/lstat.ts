import fs from 'node:fs';

/** lstat, or null when nothing is there: "is there something at this path, and what?" */
export function lstatOrNull(at: string): fs.Stats | null {
  // Asked for every entry of every layer, and usually of a path not there yet: no exception for that.
  return fs.lstatSync(at, { throwIfNoEntry: false }) ?? null;
}
