// `tsrun lesson` in the terminal: each <Region> becomes the code it names, whatever the order of its attributes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderLesson } from '../../../src/teach/terminal-lesson.js';
import { readRegion } from '../../../src/teach/regions.js';
import type { Lesson } from '../../../src/teach/lessons.js';

describe('renderLesson', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terminal-lesson-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const render = (mdx: string) => {
    const file = path.join(dir, '99-sample.mdx');
    fs.writeFileSync(file, mdx);
    return renderLesson({ file, name: 'sample', order: 99, title: 'Sample' } as Lesson, false);
  };

  it.each([
    '<Region file="src/run.ts" name="pipeline" />',
    '<Region name="pipeline" file="src/run.ts" />',
    "<Region name='pipeline' file='src/run.ts'/>",
    '  <Region file={"src/run.ts"} name={"pipeline"} />',
  ])('shows the code of %s, with where it comes from', (tag) => {
    const code = readRegion('src/run.ts', 'pipeline');
    const out = render(`# Sample\n\n${tag}\n`);
    expect(out).not.toContain('<Region');
    expect(out).toContain(`── src/run.ts:${code.startLine}-${code.endLine} (region pipeline)`);
    expect(out).toContain(code.code.split('\n')[0]);
  });

  it('leaves a Region inside a code block as text', () => {
    expect(render('```\n<Region file="src/run.ts" name="pipeline" />\n```\n')).toContain('<Region file="src/run.ts" name="pipeline" />');
  });
});
