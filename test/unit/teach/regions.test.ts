import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRegions, readRegion, regionSpan } from '../../../src/teach/regions.js';

const SOURCE = [
  '// a file with regions',                  // 1
  'import x from "y";',                       // 2
  '// #region outer',                         // 3
  'export function f() {',                    // 4
  '  const a = 1;',                           // 5
  '  // #region inner',                       // 6
  '    const b = 2;',                         // 7
  '',                                         // 8
  '    const c = 3;',                         // 9
  '  // #endregion',                          // 10
  '  return a;',                              // 11
  '}',                                        // 12
  '// #endregion',                            // 13
  '',                                         // 14
  '\t// #region tabbed  with words after the name', // 15
  '\t\tline one',                             // 16
  '\t\t\tline two',                           // 17
  '\t// #endregion tabbed',                   // 18
  '',
].join('\n');

describe('readRegion', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-regions-'));
    file = path.join(dir, 'sample.ts');
    fs.writeFileSync(file, SOURCE);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns the code between the markers, with 1-based line numbers', () => {
    const region = readRegion(file, 'outer');
    expect(region.startLine).toBe(4);
    expect(region.endLine).toBe(12);
    expect(region.code.split('\n')[0]).toBe('export function f() {');
    expect(region.code.split('\n').at(-1)).toBe('}');
  });

  it('matches each #endregion to the innermost open region', () => {
    const outer = readRegion(file, 'outer');
    expect(outer.code).toContain('return a;'); // not cut short at the inner #endregion
    const inner = readRegion(file, 'inner');
    expect(inner).toEqual({ code: 'const b = 2;\n\nconst c = 3;', startLine: 7, endLine: 9 });
  });

  it('removes the indentation the lines share, tabs included, and keeps the rest', () => {
    expect(readRegion(file, 'tabbed').code).toBe('line one\n\tline two');
    expect(readRegion(file, 'outer').code).toContain('\n  const a = 1;\n');
  });

  it('reads a path relative to the given root', () => {
    expect(readRegion('sample.ts', 'inner', { root: dir }).startLine).toBe(7);
  });

  it('lists every region in the order they open, with its depth', () => {
    expect(listRegions(file)).toEqual([
      { name: 'outer', startLine: 4, endLine: 12, depth: 0 },
      { name: 'inner', startLine: 7, endLine: 9, depth: 1 },
      { name: 'tabbed', startLine: 16, endLine: 17, depth: 0 },
    ]);
  });

  it('names the file and the region when the region is missing', () => {
    expect(() => readRegion(file, 'nope')).toThrow(/sample\.ts.*no region named "nope".*outer, inner, tabbed/);
  });

  it('names the file when it cannot be read', () => {
    expect(() => readRegion(path.join(dir, 'absent.ts'), 'outer')).toThrow(/absent\.ts.*ENOENT/);
  });

  it('refuses unbalanced markers and duplicate names', () => {
    fs.writeFileSync(file, '// #region open\ncode\n');
    expect(() => readRegion(file, 'open')).toThrow(/sample\.ts:1: region "open" is never closed/);
    fs.writeFileSync(file, 'code\n// #endregion\n');
    expect(() => listRegions(file)).toThrow(/sample\.ts:2: "#endregion" without a "#region"/);
    fs.writeFileSync(file, '// #region twice\na\n// #endregion\n// #region twice\nb\n// #endregion\n');
    expect(() => readRegion(file, 'twice')).toThrow(/region "twice" is marked 2 times/);
  });

  it('reads # comments as markers too, for Dockerfiles and scripts', () => {
    fs.writeFileSync(file, 'FROM busybox\n# #region steps\nRUN true\n# #endregion\n');
    expect(readRegion(file, 'steps')).toEqual({ code: 'RUN true', startLine: 3, endLine: 3 });
  });

  it('gives a region\'s place in the text as offsets, from its first line to the line after its last', () => {
    const span = regionSpan(file, SOURCE, 'inner')!;
    expect(SOURCE.slice(span.start, span.end)).toBe('    const b = 2;\n\n    const c = 3;\n');
    expect(regionSpan(file, SOURCE, 'nope')).toBeUndefined();
  });

  it('finds the regions of the real sources from the repository root', () => {
    const region = readRegion('src/stages/rwlayer.ts', 'rwlayer');
    expect(region.code).toMatch(/^export async function rwlayer/);
  });
});
