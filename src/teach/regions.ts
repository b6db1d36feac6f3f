// Marked regions of source files, the pieces of real code the lessons show.
// A region is written in the source as
//
//   // #region NAME
//   ...code...
//   // #endregion
//
// (or `# #region NAME` … `# #endregion` in a file whose comments start with #, a Dockerfile or a script),
// and regions may nest: each `#endregion` closes the innermost open region.
// A lesson includes a region by name instead of pasting code, so the lesson
// always shows the code as it is, and a test fails when a region goes away.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: this file is src/teach/regions.ts (or dist/teach/regions.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Region {
  /** The lines between the markers, with their common indentation removed. */
  code: string;
  /** 1-based line number of the first line after `// #region NAME`. */
  startLine: number;
  /** 1-based line number of the last line before its `// #endregion`. */
  endLine: number;
}

export interface RegionInfo {
  name: string;
  startLine: number;
  endLine: number;
  /** 0 for a top-level region, 1 for a region inside another, and so on. */
  depth: number;
}

export interface RegionOptions {
  /** What a relative `file` is relative to (default: the repository's root). */
  root?: string;
}

const OPEN = /^\s*(?:\/\/|#)\s*#region\s+(\S+)/;
const CLOSE = /^\s*(?:\/\/|#)\s*#endregion\b/;

/** Every region of `file`, in the order they open. Throws on unbalanced markers. */
export function listRegions(file: string, options: RegionOptions = {}): RegionInfo[] {
  return scan(file, readLines(file, options)).map(({ name, startLine, endLine, depth }) => ({ name, startLine, endLine, depth }));
}

/** The code of region `name` in `file` (a path relative to the repository's root). */
export function readRegion(file: string, name: string, options: RegionOptions = {}): Region {
  const lines = readLines(file, options);
  const found = scan(file, lines).filter((region) => region.name === name);
  if (found.length === 0) {
    const names = scan(file, lines).map((region) => region.name);
    const known = names.length > 0 ? `its regions are: ${names.join(', ')}` : 'it has no regions at all';
    throw new Error(`${file}: no region named "${name}" (${known}); mark it with "// #region ${name}" … "// #endregion"`);
  }
  if (found.length > 1) {
    throw new Error(`${file}: region "${name}" is marked ${found.length} times (lines ${found.map((r) => r.startLine - 1).join(', ')}); region names must be unique in a file`);
  }
  const { startLine, endLine } = found[0]!;
  return { code: dedent(lines.slice(startLine - 1, endLine)), startLine, endLine };
}

/** Where region `name` is in `text` (the contents of `file`): the offsets of its first line and of the line after its
 *  last, for code that changes a region in place, as a lab's starting point does. */
export function regionSpan(file: string, text: string, name: string): { start: number; end: number } | undefined {
  const lines = text.split('\n');
  const region = scan(file, lines).find((found) => found.name === name);
  if (!region) return undefined;
  const offset = (line: number) => lines.slice(0, line - 1).reduce((sum, before) => sum + before.length + 1, 0);
  return { start: offset(region.startLine), end: offset(region.endLine + 1) };
}

function readLines(file: string, options: RegionOptions): string[] {
  const full = path.resolve(options.root ?? REPO_ROOT, file);
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`${file}: cannot read it to find its regions (${code}; looked at ${full})`);
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop(); // the final newline
  return lines;
}

/** Match every `#endregion` to the innermost open `#region`, like brackets. */
function scan(file: string, lines: string[]): RegionInfo[] {
  const open: { name: string; markerLine: number; index: number }[] = [];
  const regions: RegionInfo[] = [];
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    const opening = OPEN.exec(line);
    if (opening) {
      // Reserve the slot now so regions come out in the order they open.
      regions.push({ name: opening[1]!, startLine: lineNo + 1, endLine: lineNo, depth: open.length });
      open.push({ name: opening[1]!, markerLine: lineNo, index: regions.length - 1 });
    } else if (CLOSE.test(line)) {
      const innermost = open.pop();
      if (!innermost) throw new Error(`${file}:${lineNo}: "#endregion" without a "#region" before it`);
      regions[innermost.index]!.endLine = lineNo - 1;
    }
  });
  const unclosed = open.pop();
  if (unclosed) {
    throw new Error(`${file}:${unclosed.markerLine}: region "${unclosed.name}" is never closed (no matching "// #endregion")`);
  }
  return regions;
}

/** Remove the indentation all non-blank lines share; blank lines become empty. */
function dedent(lines: string[]): string {
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^[ \t]*/.exec(line)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => (line.trim() === '' ? '' : line.slice(common).trimEnd())).join('\n');
}
