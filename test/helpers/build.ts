// For tests of `tsrun build`: contexts written out, and its BuildKit-like output read back.
import fs from 'node:fs';
import path from 'node:path';
import type { CliResult } from './cli.js';

/** A context directory `work/name` holding `files` (a name ending in / is a directory), the Dockerfile among them. */
export function contextIn(work: string, name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  for (const [file, content] of Object.entries(files)) {
    const at = path.join(dir, file);
    fs.mkdirSync(file.endsWith('/') ? at : path.dirname(at), { recursive: true });
    if (!file.endsWith('/')) fs.writeFileSync(at, content);
  }
  return dir;
}

/** The steps a build printed as CACHED, and those it ran (its FROM aside), by their instruction. */
export function buildSteps(result: CliResult): { cached: string[]; ran: string[] } {
  const blocks = result.stderr.split('\n\n').filter((block) => /^#\d+ \[/.test(block));
  const instruction = (block: string) => block.split('\n')[0]!.replace(/^#\d+ \[[^\]]*\] /, '');
  return {
    cached: blocks.filter((block) => block.includes('\n#') && /\n#\d+ CACHED/.test(block)).map(instruction),
    ran: blocks.filter((block) => /\n#\d+ DONE/.test(block) && !block.includes(' FROM ')).map(instruction),
  };
}
