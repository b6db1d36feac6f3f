// Run by `npm run build` after scripts/bundle.mjs: makes the code caches that load-bundle.ts gives V8.
//
// V8 compiles a function the first time it runs, and a code cache holds what had been compiled when it
// was taken. So the caches are taken after running what tsrun runs most: a container, with --trace (so
// that the SDK's bundle gets its cache too) and with --explain; and `ps`, a command parsed by yargs.
// The runs need root and the native module, and a store with the demo image, which is made here in a
// directory of its own and removed after. If a command fails (not root, say), the caches cover less:
// tsrun starts more slowly, and works the same.
//
// The commands run in a second process of this file's, whose stderr (tsrun's words) is shown only if one fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle, saveCodeCaches } from './load-bundle.js';

const TRAIN = '--run-and-save';
const bundleDir = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(bundleDir, '..', '..', 'bin', 'tsrun.js');

if (process.argv[2] === TRAIN) {
  runAndSave(JSON.parse(process.argv[3]!) as string[][]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  train();
}

function train(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  const env = { ...process.env, TSRUN_ROOT: path.join(work, 'store') };
  const commands = [
    ['run', '--rm', '--network', 'none', `--trace=${path.join(work, 'traces')}`, 'tsrun-demo', 'true'],
    ['run', '--rm', '--network', 'none', '--explain', 'tsrun-demo', 'true'],
    ['ps', '-a'],
  ];
  try {
    for (const args of [['make-demo-image', path.join(work, 'image')], ['load', '-i', path.join(work, 'image')]]) {
      spawnSync(process.execPath, [bin, ...args], { env, stdio: 'ignore', timeout: 60_000 });
    }
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), TRAIN, JSON.stringify(commands)], { env, encoding: 'utf8', timeout: 60_000 });
    const said = run.stdout.trim().split('\n');
    console.log(`${said.at(-1)} made by running: ${commands.map((args) => `tsrun ${args.join(' ')}`).join('; ')}`);
    if (run.status !== 0) console.log(`  a command failed, so the caches cover less of tsrun:\n  ${run.stderr.trim().replace(/\n/g, '\n  ')}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Run tsrun's CLI in this process once for each of `commands`, then save the caches of the bundles it loaded.
 *  The exit status is 1 if a command failed. */
async function runAndSave(commands: string[][]): Promise<void> {
  const { main } = loadBundle(path.join(bundleDir, 'tsrun.cjs')) as { main(): Promise<void> };
  let failed = false;
  for (const args of commands) {
    process.argv = [process.argv[0]!, bin, ...args];
    await main();
    failed ||= Number(process.exitCode ?? 0) !== 0;
    process.exitCode = 0;
  }
  console.log(`code caches ${saveCodeCaches().map((file) => path.basename(file)).join(', ')}`);
  process.exitCode = failed ? 1 : 0;
}
