// Directories of files written out for a test: a path ending in / is a directory, and content "-> target" makes a
// symlink. Each is removed after the test that made it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** A maker of such directories, named tsrun-LABEL-*; call it at a test file's top level. */
export function temporaryTrees(label: string): (files: Record<string, string>) => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return (files) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-${label}-`));
    made.push(dir);
    for (const [name, content] of Object.entries(files)) {
      const at = path.join(dir, name);
      fs.mkdirSync(name.endsWith('/') ? at : path.dirname(at), { recursive: true });
      if (content.startsWith('-> ')) fs.symlinkSync(content.slice(3), at);
      else if (!name.endsWith('/')) fs.writeFileSync(at, content);
    }
    return dir;
  };
}
