// Every lab still fits the sources it breaks: its region holds the text it removes exactly once. (The root test,
// test/integration/labs.test.ts, builds each working copy and runs its checks; this one needs neither root nor a build,
// and tells at once when a change to the code has moved a lab's text.)
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABS } from '../../../src/teach/labs.js';
import { REPO_ROOT, regionSpan } from '../../../src/teach/regions.js';

describe.each(LABS.map((lab) => ({ lab, name: `lab ${lab.id} (${lab.name})` })))('$name', ({ lab }) => {
  it('removes text its region holds exactly once, and its wrong fix differs from that text', () => {
    const source = fs.readFileSync(path.join(REPO_ROOT, lab.file), 'utf8');
    const span = regionSpan(lab.file, source, lab.region);
    expect(span, `${lab.file} has no region ${lab.region}`).toBeDefined();
    const region = source.slice(span!.start, span!.end);
    expect(region.split(lab.remove).length - 1, `region ${lab.region} of ${lab.file} should hold lab ${lab.id}'s text once:\n${lab.remove}`).toBe(1);
    expect(lab.wrongFix.text).not.toBe(lab.remove);
  });
});
