// What `tsrun build` reads besides a directory and its Dockerfile, as root: here-documents in RUN, COPY and ADD
// (BuildKit's rules, checked by running the image they make), and the context or the Dockerfile on stdin.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';
import { tempDir } from '../helpers/images.js';
import { buildSteps, contextIn } from '../helpers/build.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun build input (as root)', () => {
  let root: string;
  let work: string;
  const run = (...args: string[]) => tsrun(root, args);
  const ok = (...args: string[]) => {
    const result = run(...args);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const context = (name: string, files: Record<string, string>) => contextIn(work, name, files);
  const inContainer = (image: string, command: string) => ok('run', '--rm', '--network', 'none', image, 'sh', '-c', command);

  beforeAll(async () => {
    root = await storeWithDemoImage('build-input');
    work = tempDir('build-input');
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs and copies here-documents as BuildKit does: a script, <<-, a #! program, the shell\'s own, files with and without variables', () => {
    const dockerfile = (program: string) => [
      'FROM tsrun-demo',
      'ARG WHO=student',
      'ENV PLACE=lab',
      'RUN <<EOF',
      'echo one > /one',
      'echo "$WHO" > /who',
      'EOF',
      'RUN <<-EOF',
      '\techo tabbed > /tabbed',
      '\tEOF',
      'RUN <<script',
      '#!/bin/sh',
      `echo "${program} $0" > /program`,
      'script',
      "RUN cat <<A > /a && cat <<-'B' > /b",
      'first $PLACE',
      'A',
      '\tsecond $PLACE',
      '\tB',
      'COPY <<EOF /etc/motd',
      'welcome to $PLACE, "quoted"',
      'EOF',
      'COPY --chmod=600 <<"raw" <<cooked /docs/',
      'raw $PLACE',
      'raw',
      'cooked $PLACE',
      'cooked',
      'ADD <<EOF /added',
      'added',
      'EOF',
      '',
    ].join('\n');
    const dir = context('heredocs', { 'Dockerfile': dockerfile('program') });
    const first = run('build', '--network', 'none', '-t', 'heredocs:1', dir);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('[3/9] RUN <<EOF (echo one > /one...)');
    expect(inContainer('heredocs:1', 'cat /one /who /tabbed /program /a /b /etc/motd /added')).toBe(
      'one\nstudent\ntabbed\nprogram /dev/pipes/script\nfirst lab\nsecond $PLACE\nwelcome to lab, "quoted"\nadded\n');
    expect(inContainer('heredocs:1', 'stat -c "%n %a %u" /etc/motd /docs/raw /docs/cooked; cat /docs/raw /docs/cooked')).toBe(
      '/etc/motd 644 0\n/docs/raw 600 0\n/docs/cooked 600 0\nraw $PLACE\ncooked lab\n');
    // The program's directory was a mount: nothing of it is in the image's layers, which hold the documents copied.
    const saved = path.join(work, 'heredocs.tar');
    ok('save', '-o', saved, 'heredocs:1');
    const files = execFileSync('sh', ['-c', `for layer in $(tar -tf ${saved} | grep layer.tar); do tar -xOf ${saved} $layer | tar -t; done`], { encoding: 'utf8' }).split('\n');
    expect([files.includes('etc/motd'), files.some((file) => file.startsWith('dev/pipes'))]).toEqual([true, false]);

    // A document's content is part of its step: the #! program changed, that step and the ones after it run again.
    fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile('changed'));
    const again = run('build', '--network', 'none', '-t', 'heredocs:2', dir);
    expect(buildSteps(again).ran).toEqual(['RUN <<script (#!/bin/sh...)', "RUN cat <<A > /a && cat <<-'B' > /b", 'COPY <<EOF /etc/motd', 'COPY --chmod=600 <<"raw" <<cooked /docs/', 'ADD <<EOF /added']);
    expect(inContainer('heredocs:2', 'cat /program')).toBe('changed /dev/pipes/script\n');
  });

  it('reads the context from stdin as docker build does: a tar (gzip\'d or not, -f inside it), a Dockerfile alone, or -f - with a directory', () => {
    const dir = context('stdin', {
      'Dockerfile': 'FROM tsrun-demo\nCOPY . /ctx/\n',
      'web.Dockerfile': 'FROM tsrun-demo\nCOPY app.txt /web.txt\n',
      'app.txt': 'app\n',
      'secret.txt': 'left out\n',
      '.dockerignore': 'secret.txt\n',
    });
    const tar = execFileSync('tar', ['-C', dir, '-cf', '-', '.']);
    const stdin = (input: Buffer | string, ...args: string[]) => tsrun(root, ['build', '--network', 'none', ...args], { input });
    const listing = (image: string) => inContainer(image, 'ls -A /ctx');

    expect(stdin(tar, '-t', 'stdin:tar', '-').status).toBe(0);
    expect(listing('stdin:tar')).toBe('.dockerignore\nDockerfile\napp.txt\nweb.Dockerfile\n'); // .dockerignore inside the tar counts
    expect(stdin(zlib.gzipSync(tar), '-t', 'stdin:web', '-f', 'web.Dockerfile', '-').status).toBe(0);
    expect(inContainer('stdin:web', 'cat /web.txt')).toBe('app\n');

    // Not a tar: the Dockerfile, alone in a context of its own.
    expect(stdin('FROM tsrun-demo\nCOPY . /ctx/\n', '-t', 'stdin:alone', '-').status).toBe(0);
    expect(listing('stdin:alone')).toBe('Dockerfile\n');

    // -f -: the Dockerfile from stdin, the files from the directory.
    expect(stdin('FROM tsrun-demo\nCOPY app.txt /from-dir.txt\n', '-t', 'stdin:file', '-f', '-', dir).status).toBe(0);
    expect(inContainer('stdin:file', 'cat /from-dir.txt')).toBe('app\n');

    const refused = (input: Buffer | string, ...args: string[]) => {
      const result = stdin(input, ...args);
      expect(result.status).toBe(1);
      return result.stderr.trim();
    };
    expect(refused('FROM tsrun-demo\n', '-f', '-', '-')).toMatch(/^tsrun: invalid argument: can't use stdin for both build context and dockerfile/);
    expect(refused('FROM tsrun-demo\n', '-f', 'Dockerfile', '-')).toMatch(/^tsrun: ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles/);
    expect(refused(tar, '-f', 'missing.Dockerfile', '-')).toMatch(/^tsrun: Cannot locate specified Dockerfile: missing.Dockerfile/);
    expect(fs.readdirSync(path.join(root, 'tmp')).filter((name) => /^(context|stdin)-/.test(name))).toEqual([]); // every context unpacked is gone
  });

  it('stops at a here-document it cannot read, naming the line: one never closed, one on another descriptor', () => {
    const failing = (name: string, text: string) => {
      const result = run('build', '--network', 'none', '-t', `failed:${name}`, context(name, { 'Dockerfile': text }));
      expect(result.status).toBe(1);
      expect(run('inspect', `failed:${name}`).status).not.toBe(0);
      return result.stderr.trimEnd().split('\n').at(-1);
    };
    expect(failing('open', 'FROM tsrun-demo\nRUN cat <<EOF\nno end\n')).toBe('tsrun: Dockerfile:2: RUN cat <<EOF: here-document EOF is never closed — end it with a line that is EOF alone');
    expect(failing('fd', 'FROM tsrun-demo\nRUN 3<<EOF cat <&3\nthree\nEOF\n')).toMatch(/^tsrun: Dockerfile:2: RUN 3<<EOF cat <&3: a here-document on file descriptor 3 \(3<<EOF\) is not supported/);
  });
});
