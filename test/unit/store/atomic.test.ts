// Writing the store's files: several at once, all or none; temporary names that say who made them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStagingDir, makerIsRunning, writeFilesAtomic } from '../../../src/store/atomic.js';
import { tempStore } from '../../helpers/temp-store.js';

let store: ReturnType<typeof tempStore>;

beforeEach(() => {
  store = tempStore();
});
afterEach(() => {
  store.remove();
});

describe('writeFilesAtomic', () => {
  it('changes every file, in order', () => {
    const [a, b] = [path.join(store.root, 'a.json'), path.join(store.root, 'sub', 'b.json')];
    fs.writeFileSync(a, 'old a');
    writeFilesAtomic([{ file: a, data: 'new a' }, { file: b, data: 'new b', mode: 0o600 }]);
    expect([fs.readFileSync(a, 'utf8'), fs.readFileSync(b, 'utf8')]).toEqual(['new a', 'new b']);
    expect(fs.statSync(b).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(store.root).sort()).toEqual(['a.json', 'sub']);
  });

  it('changes none when one cannot be written, and leaves no temporary behind', () => {
    const a = path.join(store.root, 'a.json');
    fs.writeFileSync(a, 'old a');
    fs.writeFileSync(path.join(store.root, 'not-a-dir'), '');
    expect(() => writeFilesAtomic([{ file: a, data: 'new a' }, { file: path.join(store.root, 'not-a-dir', 'b.json'), data: 'b' }])).toThrow(/ENOTDIR|EEXIST/);
    expect(fs.readFileSync(a, 'utf8')).toBe('old a');
    expect(fs.readdirSync(store.root).sort()).toEqual(['a.json', 'not-a-dir']);
  });
});

describe('makerIsRunning', () => {
  it('knows a name this process made, and one a dead process or an old tsrun made', () => {
    const staging = path.basename(makeStagingDir(path.join(store.root, 'tmp'), 'pull'));
    expect(staging).toMatch(new RegExp(`^pull-${process.pid}\\.\\d+-\\w{6}$`));
    expect(makerIsRunning(staging)).toBe(true);
    expect(makerIsRunning(staging.replace(/^pull-\d+/, 'pull-999999999'))).toBe(false); // no such pid
    expect(makerIsRunning(staging.replace(/\.\d+-/, '.1-'))).toBe(false); // this pid, but another process's start time
    expect(makerIsRunning('pull-AbC123')).toBe(false);
  });
});
