// How the built CLI is loaded: bin/tsrun.js calls loadBundle('dist/bundle/tsrun.cjs').
//
// Starting up is a large part of a short `tsrun run`, and much of start-up is V8 compiling
// JavaScript. Node 20 keeps nothing compiled between runs of a program, but V8 can: it writes what
// it compiled as a *code cache*, and takes it back the next time instead of compiling again. So the
// build bundles tsrun into a few CommonJS files (scripts/bundle.mjs), runs a container with them and
// saves each file's code cache beside it (train-code-cache.ts). Here each file is compiled with its
// cache. V8 checks a cache against its own version and flags and ignores one that does not fit, but of
// the source it checks only the length. So a cache starts with the first line of the file it was made
// for, which for the bundles names their build (`// tsrun build <random id>`, see scripts/bundle.mjs),
// and a cache made for another build is not offered at all. Without a cache the file is compiled as
// usual, only more slowly.
//
// The bundles find each other through `require('./NAME.cjs')`, which comes back here: each is
// compiled once, with its own cache. That is how `--trace` loads the OpenTelemetry SDK (tracing.cjs)
// only when asked, and how all of them share one copy of the OpenTelemetry API (otel-api.cjs).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

interface LoadedBundle {
  module: { exports: unknown }; // a bundle sets module.exports: it is read when asked for
  script: vm.Script;
  header: Buffer; // what its code cache starts with (cacheHeader)
}

const loaded = new Map<string, LoadedBundle>();

// #region compile-with-cache
/** What `require(file)` does for a CommonJS file, but compiled with V8's code cache when there is one. */
export function loadBundle(file: string): unknown {
  const known = loaded.get(file);
  if (known) return known.module.exports;
  // The bundles are ASCII alone (scripts/bundle.mjs makes them so), which latin1 reads as UTF-8 would, but faster.
  const source = fs.readFileSync(file, 'latin1');
  const header = cacheHeader(source);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: file, cachedData: codeCacheFor(file, header) });
  const module = { exports: {} };
  loaded.set(file, { module, script, header });
  const dir = path.dirname(file);
  const nodeRequire = createRequire(file);
  const require = (id: string) => (isSiblingBundle(id) ? loadBundle(path.join(dir, id)) : nodeRequire(id));
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, require, module, file, dir);
  return module.exports;
}
// #endregion

/** What a code cache starts with: the first line of the source it was made for, which names the build. */
function cacheHeader(source: string): Buffer {
  const lineEnd = source.indexOf('\n');
  return Buffer.from(`${lineEnd < 0 ? source : source.slice(0, lineEnd)}\n`, 'latin1');
}

/** The code cache for `file`, unless there is none or it was made for another build of it. */
function codeCacheFor(file: string, header: Buffer): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = fs.readFileSync(codeCacheOf(file));
  } catch {
    return undefined; // none made
  }
  return cache.subarray(0, header.length).equals(header) ? cache.subarray(header.length) : undefined;
}

function codeCacheOf(file: string): string {
  return `${file}.cache`;
}

/** `./tracing.cjs`: another bundle in the same directory (scripts/bundle.mjs names them so). */
function isSiblingBundle(id: string): boolean {
  return /^\.\/[\w-]+\.cjs$/.test(id);
}

/** Whether V8 took `file`'s code cache when it was loaded: false if it had none or refused it. */
export function codeCacheAccepted(file: string): boolean {
  const script = loaded.get(file)?.script;
  return script !== undefined && script.cachedDataRejected === false;
}

/** Write the code cache of every bundle loaded so far (or of those `only` names): what V8 has compiled of it up to now. */
export function saveCodeCaches(only?: (file: string) => boolean): string[] {
  return [...loaded].filter(([file]) => !only || only(file)).map(([file, { script, header }]) => {
    fs.writeFileSync(codeCacheOf(file), Buffer.concat([header, script.createCachedData()]));
    return codeCacheOf(file);
  });
}
