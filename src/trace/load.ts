// Loading setup.ts, the OpenTelemetry SDK and tsrun's exporters, only when a command is traced.
//
// `--trace` must cost a run almost nothing (the tracing benchmark allows 5 %), and most of what it
// costs is V8 compiling the SDK's code: on every run, since Node 20 keeps no compiled code for ES
// modules between runs. So the build (scripts/bundle.mjs) also bundles setup.ts as one CommonJS
// file, dist/bundle/tracing.cjs, runs a trace with it and saves what V8 compiled as a code cache,
// tracing.cjs.cache. Here the file is compiled with that cache, which V8 checks against the source
// and its own version: a cache that does not fit is ignored, and the code is compiled as usual.
// From the sources (tests, development) there is no tracing.cjs: setup.ts is imported as it is.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import * as openTelemetryApi from '@opentelemetry/api';

export type TracingSetup = typeof import('./setup.js');

export async function loadStartTracing(): Promise<TracingSetup['startTracing']> {
  const bundled = bundledSetupFile();
  if (!fs.existsSync(bundled)) return (await import('./setup.js')).startTracing;
  const { startTracing } = compileCommonJs(bundled, codeCacheOf(bundled)).exports as TracingSetup;
  // A script compiled by node:vm has no module loader to import() with: the OTLP exporters, which
  // the build left out of tracing.cjs, come from here (dist/bundle/otlp.js).
  return (request, command, env) => startTracing(request, command, env, () => import('./otlp.js'));
}

/** Where the build puts tracing.cjs: beside the bundle's own files. */
export function bundledSetupFile(): string {
  return fileURLToPath(new URL('./tracing.cjs', import.meta.url));
}

export function codeCacheOf(file: string): string {
  return `${file}.cache`;
}

// #region compile-with-cache
/** What `require(file)` does, with V8's code cache from `cacheFile` when it has one. The compiled
 *  script comes back too, so that the build can ask it for the cache after a run. */
export function compileCommonJs(file: string, cacheFile: string): { exports: unknown; script: vm.Script } {
  const cachedData = fs.existsSync(cacheFile) ? fs.readFileSync(cacheFile) : undefined;
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(wrapper, { filename: file, cachedData });
  const module = { exports: {} };
  // The build left the OpenTelemetry API out of the file: it gets the one tsrun has loaded already.
  const requireFromFile = createRequire(file);
  const require = (id: string) => (id === '@opentelemetry/api' ? openTelemetryApi : requireFromFile(id));
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, require, module, file, path.dirname(file));
  return { exports: module.exports, script };
}
// #endregion
