// Run by `npm run build` after scripts/bundle.mjs: makes the code caches that load-bundle.ts gives V8.
//
// V8 compiles a function the first time it runs, and a code cache holds what had been compiled when it
// was taken. So the caches are taken after running what tsrun runs most, a container, with --trace so
// that the SDK's bundle gets its cache too. The run needs root and the native module, and a store with
// the demo image, which is made here in a directory of its own and removed after. If the run fails
// (not root, say), the caches cover less: tsrun starts more slowly, and works the same.
//
// The run happens in a second process of this file's, whose stderr (tsrun's words) is shown only if it fails.
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
  runAndSave(process.argv.slice(3)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  train();
}

function train(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  const env = { ...process.env, TSRUN_ROOT: path.join(work, 'store') };
  const command = ['run', '--rm', '--network', 'none', `--trace=${path.join(work, 'traces')}`, 'tsrun-demo', 'true'];
  try {
    for (const args of [['make-demo-image', path.join(work, 'image')], ['load', '-i', path.join(work, 'image')]]) {
      spawnSync(process.execPath, [bin, ...args], { env, stdio: 'ignore', timeout: 60_000 });
    }
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), TRAIN, ...command], { env, encoding: 'utf8', timeout: 60_000 });
    console.log(`code caches ${run.stdout.trim()} made by running: tsrun ${command.join(' ')}`);
    if (run.status !== 0) console.log(`  that run failed, so the caches cover less of tsrun:\n  ${run.stderr.trim().replace(/\n/g, '\n  ')}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Run tsrun's CLI with `args` in this process, then save the caches of the bundles it loaded. */
async function runAndSave(args: string[]): Promise<void> {
  process.argv = [process.argv[0]!, bin, ...args];
  await (loadBundle(path.join(bundleDir, 'tsrun.cjs')) as { main(): Promise<void> }).main();
  console.log(saveCodeCaches().map((file) => path.basename(file)).join(', '));
}
