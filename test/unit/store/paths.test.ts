import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStoreRoot, storePaths } from '../../../src/store/paths.js';
import { tempStore } from '../../helpers/temp-store.js';

const modeOf = (dir: string) => fs.statSync(dir).mode & 0o7777;

describe('makeStoreRoot', () => {
  let scratch: ReturnType<typeof tempStore>;
  beforeEach(() => { scratch = tempStore(); });
  afterEach(() => scratch.remove());

  it('makes a missing store 0700, with its missing parents', () => {
    const paths = storePaths(path.join(scratch.root, 'var', 'lib', 'tsrun'), {});
    makeStoreRoot(paths);
    expect(modeOf(paths.root)).toBe(0o700);
    makeStoreRoot(paths); // and again, when it is there
    expect(modeOf(paths.root)).toBe(0o700);
  });

  it('closes a store that an older tsrun left 0755', () => {
    const paths = storePaths(path.join(scratch.root, 'store'), {});
    fs.mkdirSync(paths.root, 0o755);
    fs.chmodSync(paths.root, 0o755);
    makeStoreRoot(paths);
    expect(modeOf(paths.root)).toBe(0o700);
  });

  it('refuses a directory every user writes in, and leaves it alone', () => {
    const paths = storePaths(path.join(scratch.root, 'shared'), {});
    fs.mkdirSync(paths.root);
    fs.writeFileSync(path.join(paths.root, 'someone-elses'), '');
    fs.chmodSync(paths.root, 0o1777);
    expect(() => makeStoreRoot(paths)).toThrow(/the store .*shared is writable by every user, and holds files already/);
    expect(modeOf(paths.root)).toBe(0o1777);
  });

  it('closes an empty one, such as a tmpfs just mounted for the store', () => {
    const paths = storePaths(path.join(scratch.root, 'mounted'), {});
    fs.mkdirSync(paths.root);
    fs.chmodSync(paths.root, 0o1777);
    makeStoreRoot(paths);
    expect(modeOf(paths.root)).toBe(0o700);
  });

  it('refuses a file', () => {
    const paths = storePaths(path.join(scratch.root, 'file'), {});
    fs.writeFileSync(paths.root, '');
    expect(() => makeStoreRoot(paths)).toThrow(/is not a directory/);
  });
});
