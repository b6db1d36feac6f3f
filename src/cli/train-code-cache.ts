// Run by `npm run build` after scripts/bundle.mjs: makes the code caches that load-bundle.ts gives V8.
//
// V8 compiles a function the first time it runs, and a code cache holds what had been compiled when
// it was taken. So the caches are taken after running what tsrun runs most, a container, with
// --trace so that the SDK's bundle gets its cache too. The run needs root and the native module,
// and a store with the demo image, which is made here in a directory of its own and removed after.
// If the run fails (not root, say), the caches cover less: tsrun starts more slowly, and works the same.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle, saveCodeCaches } from './load-bundle.js';

train().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

async function train(): Promise<void> {
  const bundleDir = path.dirname(fileURLToPath(import.meta.url));
  const bin = path.join(bundleDir, '..', '..', 'bin', 'tsrun.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  process.env.TSRUN_ROOT = path.join(work, 'store');
  const training = ['run', '--rm', '--network', 'none', `--trace=${path.join(work, 'traces')}`, 'tsrun-demo', 'true'];
  try {
    for (const args of [['make-demo-image', path.join(work, 'image')], ['load', '-i', path.join(work, 'image')]]) {
      spawnSync(process.execPath, [bin, ...args], { stdio: 'ignore', timeout: 60_000 });
    }
    process.argv = [process.argv[0]!, bin, ...training];
    // What the run says on stderr is shown only if it fails.
    const said: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => said.push(String(chunk)) > 0) as typeof write;
    try {
      await (loadBundle(path.join(bundleDir, 'tsrun.cjs')) as { main(): Promise<void> }).main();
    } finally {
      process.stderr.write = write;
    }
    const failed = Number(process.exitCode ?? 0) !== 0;
    process.exitCode = 0;
    const caches = saveCodeCaches().map((file) => path.basename(file));
    console.log(`code caches ${caches.join(', ')} made by running: tsrun ${training.join(' ')}`);
    if (failed) console.log(`  that run failed, so the caches cover less of tsrun:\n  ${said.join('').trim().replace(/\n/g, '\n  ')}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
