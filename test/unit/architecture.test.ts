// The layout docs/architecture.md promises, kept true: no import circle, stages that never see a flag or open
// their own span, and native/ loaded in one place only.
import fs from 'node:fs';
import path from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../../src/container.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const sourceFiles = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
  entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : []);

describe('the layout', () => {
  it('has no import circle', async () => {
    const graph = await madge(SRC, { fileExtensions: ['ts'], tsConfig: path.resolve(SRC, '../tsconfig.json') });
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(100); // it read the tree, .js specifiers and all
    expect(graph.circular()).toEqual([]);
  });

  it('has the six stages of STAGES in src/stages/, none of them parsing a flag or opening its own span', () => {
    expect(fs.readdirSync(path.join(SRC, 'stages')).sort()).toEqual(STAGES.map((stage) => `${stage}.ts`).sort());
    for (const stage of STAGES) {
      const text = fs.readFileSync(path.join(SRC, 'stages', `${stage}.ts`), 'utf8');
      expect(text, stage).not.toMatch(/from '[./]*cli\/|from 'yargs/);
      expect(text, stage).not.toMatch(/\binSpan\(/);
    }
  });

  it('loads native/ from src/kernel/native.ts alone', () => {
    const loaders = sourceFiles(SRC).filter((file) => /tsrun_native|build\/Release/.test(fs.readFileSync(file, 'utf8')));
    expect(loaders.map((file) => path.relative(SRC, file))).toEqual(['kernel/native.ts']);
  });
});
