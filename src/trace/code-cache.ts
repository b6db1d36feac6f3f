// Run by the build (scripts/bundle.mjs) after bundling: makes the code cache that load.ts gives V8
// with dist/bundle/tracing.cjs. V8 compiles a function the first time it runs, so the cache is taken
// after tracing something the way `tsrun run --trace` does: nested spans, a span made afterwards
// from recorded times (as for the child's steps), a failure, and the trace files written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledSetupFile, codeCacheOf, compileCommonJs, type TracingSetup } from './load.js';
import { inSpan, recordSpan } from './span.js';

const file = bundledSetupFile();
const cacheFile = codeCacheOf(file);
fs.rmSync(cacheFile, { force: true });
const { exports, script } = compileCommonJs(file, cacheFile);
const { startTracing } = exports as TracingSetup;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
try {
  const tracing = await startTracing({ file: dir, exporters: [] }, 'run', {});
  await tracing.root(async () => {
    await inSpan('tsrun.create', { 'container.id': 'code-cache' }, async () => {
      const now = Date.now();
      recordSpan('tsrun.exec.step', {}, now - 1, now);
    });
    await inSpan('tsrun.exec', {}, () => Promise.reject(new Error('a failed stage')));
  }, () => 125).catch(() => undefined);
  await tracing.finish();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
fs.writeFileSync(cacheFile, script.createCachedData());
