// The bundles `npm run build` made (scripts/bundle.mjs), as bin/tsrun.js loads them.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the bundles', () => {
  it("wrap each of Node's modules once, in a module their importers share", () => {
    for (const bundle of ['tsrun.cjs', 'tracing.cjs', 'otlp.cjs']) {
      const source = fs.readFileSync(path.resolve('dist/bundle', bundle), 'utf8');
      // esbuild's interop wrapper, which copies every export of the module it wraps
      const wrapped = [...source.matchAll(/__toESM\(require\("([^"]+)"\)/g)].map((match) => match[1]!)
        .filter((id) => builtinModules.includes(id.replace(/^node:/, '')));
      expect(wrapped.length, bundle).toBeGreaterThan(0);
      expect(wrapped.filter((id, i) => wrapped.indexOf(id) !== i), bundle).toEqual([]);
    }
  });
});
