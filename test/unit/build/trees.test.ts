// The trees a build reads (trees.ts): the context with .dockerignore's rules, globs, and path resolution
// that never leaves a tree, whatever its symlinks say.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contextTree, glob, imageTree, resolveIn } from '../../../src/build/trees.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { temporaryTrees } from '../../helpers/trees.js';

const tree = temporaryTrees('build-tree');

/** Every path the tree shows, depth first. */
function paths(source: ReturnType<typeof contextTree>, dir = ''): string[] {
  return source.list(dir).flatMap((name) => {
    const at = dir === '' ? name : `${dir}/${name}`;
    return [at, ...(source.entry(at)?.type === 'directory' ? paths(source, at) : [])];
  });
}

describe('contextTree and .dockerignore', () => {
  it('leaves out what the patterns match, with Docker\'s rules: anchored names, *, **, and ! exceptions', () => {
    const dir = tree({
      'Dockerfile': 'FROM x', 'app.js': '', 'debug.log': '', 'src/a.js': '', 'src/deep/b.log': '', 'src/app.js': '',
      'docs/guide.md': '', 'docs/keep.md': '', 'node_modules/m/index.js': '', 'secret.env': '',
    });
    const context = contextTree(dir, '# not a pattern\n\n**/*.log\ndocs\n!docs/keep.md\nnode_modules/\n/secret.env\napp.js\n');
    expect(paths(context)).toEqual(['Dockerfile', 'docs', 'docs/keep.md', 'src', 'src/a.js', 'src/app.js', 'src/deep']);
    expect(context.entry('debug.log')).toBeNull();
    expect(context.entry('docs/guide.md')).toBeNull();
    expect(context.entry('src/app.js')?.type).toBe('file'); // "app.js" is anchored at the root, as in Docker
  });

  it('matches names exactly, upper and lower case apart, as Docker on Linux', () => {
    const context = contextTree(tree({ 'README': '', 'readme': '' }), 'README\n');
    expect(paths(context)).toEqual(['readme']);
  });
});

describe('glob', () => {
  it('matches as Go\'s filepath.Match: * and ? within a directory, [..] classes, dot files too', () => {
    const context = contextTree(tree({ 'a.txt': '', 'b.txt': '', '.hidden.txt': '', 'sub/c.txt': '', 'x1': '', 'x2': '', 'xa': '' }), '');
    expect(glob(context, '*.txt')).toEqual(['.hidden.txt', 'a.txt', 'b.txt']);
    expect(glob(context, 'sub/*.txt')).toEqual(['sub/c.txt']);
    expect(glob(context, 'x[0-9]')).toEqual(['x1', 'x2']);
    expect(glob(context, 'x?')).toEqual(['x1', 'x2', 'xa']);
    expect(glob(context, 'nothing*')).toEqual([]);
  });
});

describe('resolveIn', () => {
  it('follows symlinks inside the tree: an absolute target starts at the tree\'s root, ".." stops there', () => {
    const dir = tree({ 'etc/passwd': 'image', 'app': '-> /etc', 'up': '-> ../../../../etc', 'rel/': '', 'rel/link': '-> ../etc', 'loop': '-> loop' });
    const image = imageTree(fakeSyscalls(), [dir], 'the image');
    expect(resolveIn(image, '/app/passwd', true)).toBe('etc/passwd');
    expect(resolveIn(image, 'up/passwd', true)).toBe('etc/passwd');
    expect(resolveIn(image, '/rel/link/x', true)).toBe('etc/x');
    expect(resolveIn(image, '../../app', false)).toBe('app');
    expect(resolveIn(image, '/new/dir/file', true)).toBe('new/dir/file');
    expect(() => resolveIn(image, '/loop/x', true)).toThrow('too many levels of symbolic links');
    expect(() => resolveIn(image, '/etc/passwd/x', true)).toThrow('/etc/passwd in the image is not a directory');
  });

  it('reads an image through its layers: the top layer\'s entry wins, and a layer\'s symlink is not followed on the host', () => {
    const lower = tree({ 'etc/os': 'lower', 'etc/only-lower': 'x', 'data/': '' });
    const upper = tree({ 'etc/os': 'upper', 'data': `-> ${lower}` }); // a symlink to a host path, as a hostile layer might hold
    const image = imageTree(fakeSyscalls(), [upper, lower], 'the image');
    expect(image.list('etc')).toEqual(['only-lower', 'os']);
    expect(fs.readFileSync(image.entry('etc/os')!.hostPath, 'utf8')).toBe('upper');
    expect(image.entry('data')).toMatchObject({ type: 'symlink', linkname: lower });
    expect(resolveIn(image, '/data/etc/os', true)).toBe(`${lower.slice(1)}/etc/os`); // inside the image: a path that is not there
    expect(image.list(`${lower.slice(1)}/etc`)).toEqual([]);
  });
});
