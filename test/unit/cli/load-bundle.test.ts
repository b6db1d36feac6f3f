import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Loader = typeof import('../../../src/cli/load-bundle.js');

/** load-bundle.ts as a new process would see it: nothing loaded yet. */
async function freshLoader(): Promise<Loader> {
  vi.resetModules();
  return import('../../../src/cli/load-bundle.js');
}

describe('loadBundle', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const write = (name: string, source: string) => fs.writeFileSync(file(name), source);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-load-bundle-'));
    // Bundles the way esbuild writes them: module.exports replaced, other bundles required as ./NAME.cjs.
    write('main.cjs', `module.exports = { main: () => require('./shared.cjs').count(), shared: require('./shared.cjs'), sep: require('node:path').sep };`);
    write('other.cjs', `module.exports = { shared: require('./shared.cjs') };`);
    write('shared.cjs', `let calls = 0; module.exports = { count: () => ++calls };`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs a CommonJS file, and loads each bundle it requires once, for every bundle that requires it', async () => {
    const { loadBundle } = await freshLoader();
    const main = loadBundle(file('main.cjs')) as { main(): number; shared: unknown; sep: string };
    const other = loadBundle(file('other.cjs')) as { shared: unknown };
    expect(main.main()).toBe(1);
    expect(main.main()).toBe(2);
    expect(other.shared).toBe(main.shared);
    expect(loadBundle(file('main.cjs'))).toBe(main);
    expect(main.sep).toBe('/'); // anything else is Node's require
  });

  it('saves what V8 compiled, and compiles from that cache the next time', async () => {
    const first = await freshLoader();
    (first.loadBundle(file('main.cjs')) as { main(): number }).main();
    expect(first.codeCacheAccepted(file('main.cjs'))).toBe(false); // there was none
    expect(first.saveCodeCaches().sort()).toEqual([file('main.cjs.cache'), file('shared.cjs.cache')]);

    const next = await freshLoader();
    expect((next.loadBundle(file('main.cjs')) as { main(): number }).main()).toBe(1);
    expect(next.codeCacheAccepted(file('main.cjs'))).toBe(true);
    expect(next.codeCacheAccepted(file('shared.cjs'))).toBe(true);
  });

  it('does not offer a cache made for another build of the file, but one copied along with its file', async () => {
    write('shared.cjs', `// build 1\nlet calls = 0; module.exports = { count: () => ++calls };`);
    const first = await freshLoader();
    first.loadBundle(file('shared.cjs'));
    first.saveCodeCaches();
    // Rebuilt with the same length, which is all V8 compares: its cache would be taken for the new code.
    write('shared.cjs', `// build 2\nlet calls = 5; module.exports = { count: () => ++calls };`);
    const next = await freshLoader();
    expect((next.loadBundle(file('shared.cjs')) as { count(): number }).count()).toBe(6);
    expect(next.codeCacheAccepted(file('shared.cjs'))).toBe(false);

    // A copy of the directory (cp -r gives every file a new time) keeps file and cache together.
    next.saveCodeCaches();
    const copy = path.join(dir, 'copy');
    fs.mkdirSync(copy);
    for (const name of ['shared.cjs.cache', 'shared.cjs']) fs.copyFileSync(file(name), path.join(copy, name));
    const fromCopy = await freshLoader();
    expect((fromCopy.loadBundle(path.join(copy, 'shared.cjs')) as { count(): number }).count()).toBe(6);
    expect(fromCopy.codeCacheAccepted(path.join(copy, 'shared.cjs'))).toBe(true);
  });

  it('compiles as usual when V8 refuses a cache that does not fit', async () => {
    const first = await freshLoader();
    first.loadBundle(file('other.cjs'));
    first.saveCodeCaches();
    fs.copyFileSync(file('other.cjs.cache'), file('main.cjs.cache')); // newer than main.cjs, and not its cache

    const next = await freshLoader();
    expect((next.loadBundle(file('main.cjs')) as { main(): number }).main()).toBe(1);
    expect(next.codeCacheAccepted(file('main.cjs'))).toBe(false);
  });
});
