// Bundles the CLI (and the lessons' site builder) into dist/bundle/ with esbuild.
// One file per lazily imported command (splitting), so `tsrun run` loads only
// what `run` needs.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts', 'src/teach/build-site.ts', 'src/trace/code-cache.ts', 'src/trace/otlp.ts'],
  outdir: 'dist/bundle',
  entryNames: '[name]', // dist/bundle/main.js, not dist/bundle/cli/main.js
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['*.node'],
  // A package's ES module build before its CommonJS one (esbuild's default for node is the reverse):
  // only ES modules can be tree-shaken, and OpenTelemetry's CommonJS builds pull in all of
  // @opentelemetry/semantic-conventions, half a megabyte that `--trace` would load on every run.
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
  // Some dependencies (tar-stream's streamx) are CommonJS and call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __tsrunCreateRequire } from 'node:module'; const require = __tsrunCreateRequire(import.meta.url);" },
});

// The code `--trace` loads, once more as a single CommonJS file, which V8 can compile from a code
// cache (see src/trace/load.ts); then the cache itself, made by tracing something with that file.
// The OTLP exporters stay out of it, in dist/bundle/otlp.js (load.ts hands them over): `--trace`
// alone does not use them. So does the OpenTelemetry API, which tsrun has loaded already.
await build({
  entryPoints: ['src/trace/setup.ts'],
  external: ['./otlp.js', '@opentelemetry/api'],
  outfile: 'dist/bundle/tracing.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
execFileSync(process.execPath, ['dist/bundle/code-cache.js'], { stdio: 'inherit' });
