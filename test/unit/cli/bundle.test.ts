// The bundles `npm run build` made (scripts/bundle.mjs), as bin/tsrun.js loads them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
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

  it('leave ICU alone in a command yargs parses: string-width, which starts it, loads only for text beyond ASCII', () => {
    // yargs builds its help text after it starts any command, shown or not; string-width creates an
    // Intl.Segmenter as it loads, and the first one starts ICU (13 ms).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bundle-test-'));
    try {
      const counter = path.join(dir, 'count-segmenters.cjs');
      fs.writeFileSync(counter, `
        let made = 0;
        Intl.Segmenter = new Proxy(Intl.Segmenter, { construct: (Real, args) => (made++, new Real(...args)) });
        process.on('exit', () => require('fs').writeSync(2, 'segmenters made: ' + made + '\\n'));
      `);
      const images = spawnSync(process.execPath, ['--require', counter, path.resolve('bin/tsrun.js'), 'images'], {
        encoding: 'utf8', env: { ...process.env, TSRUN_ROOT: path.join(dir, 'store') },
      });
      expect(images.status, images.stderr).toBe(0);
      expect(images.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID/);
      expect(images.stderr).toBe('segmenters made: 0\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('building the lessons site after the CLI', () => {
  it('leaves the CLI\'s bundles and code caches as the build made them, and V8 still takes the caches', () => {
    const bundles = ['tsrun.cjs', 'tracing.cjs', 'otel-api.cjs', 'otlp.cjs'].map((name) => path.resolve('dist/bundle', name));
    const files = bundles.flatMap((bundle) => [bundle, `${bundle}.cache`]);
    const before = files.map((file) => fs.readFileSync(file));
    const site = spawnSync(process.execPath, ['scripts/bundle.mjs', '--site'], { encoding: 'utf8' }); // lessons:build's first half
    expect(site.status, site.stderr).toBe(0);
    expect(files.map((file) => fs.readFileSync(file)), 'a bundle or a cache changed').toEqual(before);
    const loader = path.resolve('dist/bundle/load-bundle.cjs');
    const accepted = spawnSync(process.execPath, ['-e', `
      const { loadBundle, codeCacheAccepted } = require(${JSON.stringify(loader)});
      const files = ${JSON.stringify(bundles)};
      for (const file of files) loadBundle(file);
      console.log(JSON.stringify(files.map(codeCacheAccepted)));
    `], { encoding: 'utf8' });
    expect(JSON.parse(accepted.stdout)).toEqual([true, true, true, true]);
  });
});
