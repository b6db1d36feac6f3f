// What a directory of the store takes on disk: `tsrun system df`'s sizes, and what a prune reclaims.
import fs from 'node:fs';
import path from 'node:path';

/** Bytes of the files under a directory, each hard-linked file counted once; 0 when it does not exist. */
export function directorySize(dir: string): number {
  const seen = new Set<number>();
  const walk = (at: string): number => fs.readdirSync(at, { withFileTypes: true }).reduce((total, entry) => {
    const full = path.join(at, entry.name);
    const stat = fs.lstatSync(full);
    if (entry.isDirectory()) return total + walk(full);
    if (seen.has(stat.ino)) return total;
    seen.add(stat.ino);
    return total + stat.size;
  }, 0);
  return fs.existsSync(dir) ? walk(dir) : 0;
}
