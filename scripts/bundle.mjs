// Bundles the CLI (and the lessons' site builder) into dist/bundle/ with esbuild.
// One file per lazily imported command (splitting), so `tsrun run` loads only
// what `run` needs.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts', 'src/teach/build-site.ts'],
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
