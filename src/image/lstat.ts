import fs from 'node:fs';

/** lstat, or null when nothing is there: "is there something at this path, and what?" */
export function lstatOrNull(at: string): fs.Stats | null {
  try {
    return fs.lstatSync(at);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
