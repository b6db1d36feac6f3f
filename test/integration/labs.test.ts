// Every lab fails its checks on the broken starting point and on a wrong fix a
// student might try, and passes them on the reference solution (tsrun's own
// source): a lab that cannot fail, can be fooled, or cannot be passed, is a bug.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findLab, LABS } from '../../src/teach/labs.js';
import { checkLab, prepareLab } from '../../src/teach/lab-workspace.js';
import { REPO_ROOT } from '../../src/teach/regions.js';
import { hostSnapshot, tsrun } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('labs (as root)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lab start refuses a working copy that is already there (it may hold the student\'s work), and points at lab reset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-lab-test-kept-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'my-fix.txt'), 'an afternoon of work');
    const started = tsrun(dir, ['lab', 'start', '1', '--dir', dir]);
    expect(started.status).toBe(125);
    expect(started.stderr).toMatch(/lab 1 already has a working copy in .*tsrun lab reset 1/);
    expect(fs.readFileSync(path.join(dir, 'my-fix.txt'), 'utf8')).toBe('an afternoon of work');
  });

  it('lab 11 (build-cache) is not fooled by a Dockerfile that leaves the install or the app out', async () => {
    const lab = findLab('build-cache');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-lab-test-11-'));
    dirs.push(dir);
    const file = prepareLab(lab, dir);
    const reference = fs.readFileSync(path.join(REPO_ROOT, lab.file), 'utf8');
    const [cached, runs, installsAgain] = lab.checks.map((check) => check.name);
    for (const { text, failing } of [
      { text: 'COPY . ./\n', failing: [cached, runs, installsAgain] },
      { text: 'COPY deps.txt install.sh ./\nRUN sh install.sh deps.txt\n', failing: [runs, installsAgain] },
    ]) {
      fs.writeFileSync(file, reference.replace(lab.remove, () => text));
      const results = await checkLab(lab, dir);
      expect(results.filter((check) => !check.passed).map((check) => check.name), `${text}${JSON.stringify(results, null, 2)}`).toEqual(failing);
    }
  });

  for (const lab of LABS) {
    it(`lab ${lab.id} (${lab.name}): fails as started and with a wrong fix, passes with the reference code`, async () => {
      const before = hostSnapshot();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-lab-test-${lab.id}-`));
      dirs.push(dir);
      const file = prepareLab(lab, dir);
      expect(fs.readFileSync(file, 'utf8')).toContain(`TODO(lab ${lab.id})`);

      const broken = await checkLab(lab, dir);
      expect(broken.some((check) => !check.passed), JSON.stringify(broken, null, 2)).toBe(true);

      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(lab.insert, () => lab.wrongFix.text));
      const fooled = await checkLab(lab, dir);
      expect(fooled.some((check) => !check.passed), `${lab.wrongFix.why}, and yet every check passed`).toBe(true);

      fs.copyFileSync(path.join(REPO_ROOT, lab.file), file); // the student's fix: the reference code
      const mended = await checkLab(lab, dir);
      expect(mended.filter((check) => !check.passed), JSON.stringify(mended, null, 2)).toEqual([]);

      const after = hostSnapshot();
      expect(after.mounts.filter((m) => !before.mounts.includes(m))).toEqual([]);
    });
  }
});
