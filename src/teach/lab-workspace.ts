// A lab's working copy: tsrun's sources copied into a directory of the
// student's, with one stage broken on purpose (see labs.ts), built, and then
// checked from the outside by running the student's own tsrun.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT, regionSpan } from './regions.js';
import { backgroundProcess, type Lab, type LabContext } from './labs.js';
import { fail } from '../errors.js';

/** What a working copy needs to build and run; node_modules and the native build are shared, not copied. */
const COPIED = ['src', 'scripts', 'bin', 'lessons', 'native/src', 'native/binding.gyp', 'package.json', 'tsconfig.json'];
const SHARED = ['node_modules', 'native/build'];

export const defaultLabDir = (lab: Lab) => path.join(os.homedir(), 'tsrun-labs', `${String(lab.id).padStart(2, '0')}-${lab.name}`);

/** Make (or remake, for `lab reset`) the working copy: the reference sources with the lab's change applied. */
export function prepareLab(lab: Lab, dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'native'), { recursive: true });
  for (const entry of COPIED) fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  for (const entry of SHARED) fs.symlinkSync(path.join(REPO_ROOT, entry), path.join(dir, entry));

  const file = path.join(dir, lab.file);
  const source = fs.readFileSync(file, 'utf8');
  const span = regionSpan(lab.file, source, lab.region);
  const region = span === undefined ? '' : source.slice(span.start, span.end);
  if (span === undefined || region.split(lab.remove).length !== 2) {
    throw fail(`lab ${lab.id} no longer fits ${lab.file}: region "${lab.region}" does not hold the text it removes exactly once`, 'update the lab in src/teach/labs.ts');
  }
  fs.writeFileSync(file, source.slice(0, span.start) + region.replace(lab.remove, () => lab.insert) + source.slice(span.end));
  buildLab(dir);
  return file;
}

/** The student's build: the same bundles `npm run build:ts` makes, without their code caches (type checking
 *  is left to their editor): a build of seconds, and a tsrun that starts a little more slowly. */
export function buildLab(dir: string): void {
  const result = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw fail(`the working copy in ${dir} does not build:\n${result.stderr.trim()}`, 'fix the error it names, then check again');
}

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
  hint: string;
}

/** Build the working copy and run every check of the lab against it, with a store of its own. */
export async function checkLab(lab: Lab, dir: string): Promise<CheckResult[]> {
  if (!fs.existsSync(path.join(dir, lab.file))) throw fail(`no working copy for lab ${lab.id} in ${dir}`, `start it with: tsrun lab start ${lab.id}`);
  buildLab(dir);
  const bin = path.join(dir, 'bin', 'tsrun.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-lab-${lab.id}-`));
  const scratch = path.join(root, 'scratch');
  fs.mkdirSync(scratch);
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, NO_COLOR: '1', TSRUN_ROOT: path.join(root, 'store'), ...extra });
  const context: LabContext = {
    root: path.join(root, 'store'),
    scratch,
    workingCopy: dir,
    tsrun: (args, extra) => {
      const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: env(extra), timeout: 60_000 });
      return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
    },
    tsrunInBackground: (args, extra) => backgroundProcess(process.execPath, [bin, ...args], env(extra)),
  };
  try {
    const image = path.join(scratch, 'demo-image');
    for (const args of [['make-demo-image', image], ['load', '-i', image]]) {
      const result = context.tsrun(args);
      if (result.status !== 0) throw fail(`preparing the lab's store failed: ${result.stderr.trim()}`, 'is tsrun built? run npm run build');
    }
    const results: CheckResult[] = [];
    for (const check of lab.checks) {
      const detail = await check.run(context).catch((error: Error) => `the check itself failed: ${error.message}`);
      results.push({ name: check.name, passed: detail === '', detail, hint: check.hint });
    }
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
