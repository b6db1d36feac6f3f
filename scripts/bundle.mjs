// Bundles the CLI (and the lessons' site builder) into dist/bundle/ with esbuild.
// With --site, only the site builder: the CLI's bundles and their code caches stay as the build left them
// (`npm run lessons:build` after `npm run build` must not leave every command compiling from scratch).
//
// The CLI becomes a few CommonJS files, which bin/tsrun.js loads with src/cli/load-bundle.ts, each
// with a V8 code cache (made afterwards by dist/bundle/train-code-cache.cjs; see package.json):
//   tsrun.cjs       the CLI: every command, loaded whole (its commands are compiled only when used)
//   tsrun-oci.cjs   the OCI runtime's command line (bin/tsrun-oci.js)
//   tracing.cjs     the OpenTelemetry SDK and tsrun's trace files, loaded only when a command is traced
//   otlp.cjs        the OTLP/HTTP exporters, loaded only when OTEL_TRACES_EXPORTER says otlp
//   otlp-grpc.cjs   the OTLP/gRPC exporter and its gRPC library (a megabyte), only for that protocol
//   otel-api.cjs    the OpenTelemetry API, one copy for all of them
// A bundle's import of another becomes `require('./NAME.cjs')`, which load-bundle.ts answers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

const outdir = 'dist/bundle';
const siteOnly = process.argv.includes('--site');

if (!siteOnly) await bundleCli();

// The lessons' site builder stays an ES module: MDX's compiler is published only as one.
await build({
  entryPoints: ['src/teach/build-site.ts'],
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Some dependencies are CommonJS and call require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __tsrunCreateRequire } from 'node:module'; const require = __tsrunCreateRequire(import.meta.url);" },
});

/** The CLI's bundles, made afresh: everything from an earlier build goes, bundles it no longer makes and code
 *  caches made for it. */
async function bundleCli() {
  fs.rmSync(outdir, { recursive: true, force: true });
  const bundles = {
    tsrun: 'src/cli/main.ts',
    'tsrun-oci': 'src/oci/main.ts',
    tracing: 'src/trace/setup.ts',
    otlp: 'src/trace/otlp.ts',
    'otlp-grpc': 'src/trace/otlp-grpc.ts',
    'otel-api': 'node_modules/@opentelemetry/api/build/esm/index.js',
    'load-bundle': 'src/cli/load-bundle.ts',
    'train-code-cache': 'src/cli/train-code-cache.ts',
  };
  const bundleOf = new Map(Object.entries(bundles).map(([name, source]) => [path.resolve(source), name]));

  /** An import of another bundle's entry point stays out of the importing bundle: `require('./NAME.cjs')`.
   *  The OpenTelemetry API and each of Node's modules are required once per bundle, through a module
   *  of one line that every importer shares. Otherwise esbuild wraps them again for every module that
   *  imports them, copying all their exports each time: node:fs's hundred, for each of the fifty
   *  modules of tsrun that import it (9 ms of a `tsrun run`, measured), and the API's for each of
   *  the twenty SDK modules (a quarter of a millisecond of every traced run). */
  const builtins = new Set(builtinModules);
  const apart = {
    name: 'apart',
    setup(build) {
      build.onResolve({ filter: /^@opentelemetry\/api$/ }, () => ({ path: './otel-api.cjs', namespace: 'once' }));
      // Only ES imports: a CommonJS require() of a Node module gets the module itself, unwrapped, and must
      // (cli-progress's `class … extends require('events')` needs the class, not a namespace object).
      build.onResolve({ filter: /^[a-z_:/]+$/ }, ({ path: specifier, namespace, kind }) => {
        if (namespace === 'once' || kind === 'require-call' || !builtins.has(specifier.replace(/^node:/, ''))) return undefined;
        return { path: specifier, namespace: 'once' };
      });
      build.onLoad({ filter: /.*/, namespace: 'once' }, ({ path: specifier }) => ({
        contents: `export * from '${specifier}'; export { default } from '${specifier}';`,
      }));
      // yargs lays out its help with string-width, which creates an Intl.Segmenter as it loads. That starts
      // ICU (13 ms), and yargs builds its help after starting every command it parses (`tsrun ps`), shown
      // or not. Printable ASCII, which tsrun's help is, takes a column a character; only other text loads it.
      build.onResolve({ filter: /^string-width$/ }, async ({ kind, importer, resolveDir, pluginData }) => {
        if (kind !== 'import-statement' || pluginData === 'real' || pluginData === 'apart') return undefined;
        const real = await build.resolve('string-width', { kind, importer, resolveDir, pluginData: 'real' });
        return { path: real.path, namespace: 'ascii-width' };
      });
      build.onLoad({ filter: /.*/, namespace: 'ascii-width' }, ({ path: real }) => ({
        contents: `let measure;
          export default function stringWidth(text, options) {
            if (/^[\\x20-\\x7e]*$/.test(text)) return text.length;
            measure ??= require(${JSON.stringify(real)}).default;
            return measure(text, options);
          }`,
        resolveDir: path.dirname(real),
      }));
      build.onResolve({ filter: /.*/ }, async ({ path: specifier, kind, importer, resolveDir, pluginData, namespace }) => {
        if (namespace === 'once') return { path: specifier, external: true };
        if (kind === 'entry-point' || pluginData === 'apart') return undefined;
        const resolved = await build.resolve(specifier, { kind, importer, resolveDir, pluginData: 'apart' });
        const name = bundleOf.get(resolved.path);
        return name ? { path: `./${name}.cjs`, external: true } : resolved;
      });
    },
  };

  const { outputFiles } = await build({
    entryPoints: bundles,
    write: false,
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import() of another bundle becomes require(), which load-bundle.ts serves: a script compiled by
    // node:vm has no module loader of Node's to import() with.
    supported: { 'dynamic-import': false },
    external: ['*.node'],
    // A package's ES module build before its CommonJS one (esbuild's default for node is the reverse):
    // only ES modules can be tree-shaken, and OpenTelemetry's CommonJS builds pull in all of
    // @opentelemetry/semantic-conventions, half a megabyte that `--trace` would load on every run.
    mainFields: ['module', 'main'],
    // The sources are ES modules, which are always strict, and ask where they are with import.meta.url.
    // The first line names the build: load-bundle.ts offers a bundle only the code cache made for its build.
    banner: { js: `// tsrun build ${crypto.randomUUID()}\n'use strict';\nconst __tsrunImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': '__tsrunImportMetaUrl' },
    plugins: [apart],
    logLevel: 'warning',
  });
  // Node reads a file of ASCII alone several times faster than one with any other character (4 ms of a
  // run's start for tsrun.cjs): esbuild escapes them in strings, and here in the comments it keeps too.
  fs.mkdirSync(outdir, { recursive: true });
  for (const { path: file, text } of outputFiles) {
    fs.writeFileSync(file, text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}
