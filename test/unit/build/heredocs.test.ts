// Here-documents as BuildKit's Dockerfile frontend reads them (dockerfile.ts finds them, heredocs.ts says what
// they mean): their content exactly as written, `<<-` and quoted names, what RUN runs, and the errors.
import { describe, expect, it } from 'vitest';
import { BuildError, parseDockerfile, parseTrigger, shown } from '../../../src/build/dockerfile.js';
import { contentOf, heredocCommand } from '../../../src/build/heredocs.js';

const parse = (text: string) => parseDockerfile(text, 'Dockerfile').instructions;
const failure = (text: string): BuildError => {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(BuildError);
    return error as BuildError;
  }
  throw new Error('no error');
};

describe('here-documents in a Dockerfile', () => {
  it('reads a RUN document\'s lines as they are: comments, continuations and blank lines kept; the next instruction after it', () => {
    const [, run, env] = parse('FROM x\nRUN <<EOF\n#!/bin/sh\n# a comment\necho a \\\n  b\n\nEOF\nENV A=1\n');
    expect(run).toMatchObject({ line: 2, keyword: 'RUN', args: '<<EOF', words: ['<<EOF'] });
    expect(run!.heredocs).toEqual([{ name: 'EOF', chomp: false, expand: true, content: '#!/bin/sh\n# a comment\necho a \\\n  b\n\n' }]);
    expect(env).toMatchObject({ line: 9, keyword: 'ENV' });
  });

  it('keeps the instruction\'s own words to the lines before the documents, a continued line and flags included', () => {
    const [, copy, run] = parse('FROM x\nCOPY --chmod=755 <<one <<"two" \\\n  /dest/\nfirst\none\nsecond $X\ntwo\nRUN cat <<EOF > /out\nbody\nEOF\n');
    expect(copy).toMatchObject({ line: 2, flags: [{ name: 'chmod', value: '755' }], words: ['<<one', '<<"two"', '/dest/'] });
    expect(copy!.heredocs).toEqual([
      { name: 'one', chomp: false, expand: true, content: 'first\n' },
      { name: 'two', chomp: false, expand: false, content: 'second $X\n' },
    ]);
    expect(run).toMatchObject({ line: 8, args: 'cat <<EOF > /out', heredocs: [{ name: 'EOF', content: 'body\n' }] });
  });

  it('ends a <<- document at its name after tabs, and takes the tabs off only where it is used', () => {
    const [, run] = parse("FROM x\nRUN <<-'END'\n\tindented $HOME\n\t\ttwice\n\tEND\n");
    expect(run!.heredocs[0]).toEqual({ name: 'END', chomp: true, expand: false, content: '\tindented $HOME\n\t\ttwice\n' });
    expect(contentOf(run!.heredocs[0]!)).toBe('indented $HOME\ntwice\n');
  });

  it('reads an empty document, and ADD\'s', () => {
    const [, copy, add] = parse('FROM x\nCOPY <<EOF /empty\nEOF\nADD <<EOF /added\nadded\nEOF\n');
    expect(copy!.heredocs).toEqual([{ name: 'EOF', chomp: false, expand: true, content: '' }]);
    expect(add!.heredocs[0]!.content).toBe('added\n');
  });

  it('leaves ONBUILD\'s document in its text, read when it runs', () => {
    const dockerfile = parseDockerfile('FROM x\nONBUILD RUN <<EOF\nlater\nEOF\nENV A=1\n', 'Dockerfile');
    const [, onbuild, env] = dockerfile.instructions;
    expect(onbuild!.args).toBe('RUN <<EOF\nlater\nEOF');
    expect(env!.line).toBe(5);
    expect(parseTrigger(dockerfile, onbuild!, onbuild!.args)).toMatchObject({ line: 2, keyword: 'RUN', args: '<<EOF', heredocs: [{ name: 'EOF', content: 'later\n' }] });
  });

  it('shows a RUN of one document by its first line, as BuildKit does', () => {
    const [, one, many] = parse('FROM x\nRUN <<EOF\napk add curl\necho done\nEOF\nRUN cat <<EOF\nx\nEOF\n');
    expect(shown(one!)).toBe('RUN <<EOF (apk add curl...)');
    expect(shown(many!)).toBe('RUN cat <<EOF');
  });

  it('refuses, naming the line: a document never closed, one on another descriptor, one as a destination', () => {
    expect(failure('FROM x\nRUN cat <<EOF\nno end\n').message).toBe('Dockerfile:2: RUN cat <<EOF: here-document EOF is never closed');
    expect(failure('FROM x\nRUN 3<<EOF cat <&3\nthree\nEOF\n').message).toBe('Dockerfile:2: RUN 3<<EOF cat <&3: a here-document on file descriptor 3 (3<<EOF) is not supported');
    expect(failure('FROM x\nRUN <<../../etc/x\n#!/bin/sh\n../../etc/x\n').message).toBe('Dockerfile:2: RUN <<../../etc/x (#!/bin/sh): here-document ../../etc/x cannot name a file');
    expect(failure('FROM x\nCOPY a <<EOF\nx\nEOF\n').message).toBe('Dockerfile:2: COPY a <<EOF: COPY cannot take a here-document as its destination');
    // dockerfile-ast opens a document in a JSON array, where Docker reads none: the lines it took may be instructions.
    expect(failure('FROM x\nRUN ["sh", "-c", "cat <<EOF"]\nENV A=1\nEOF\n').message).toMatch(/^Dockerfile:2: RUN .*: tsrun cannot tell which lines belong to this instruction/);
  });
});

describe('heredocCommand', () => {
  const run = (text: string) => heredocCommand(parse(`FROM x\n${text}`)[1]!);

  it('runs a lone document as the shell\'s command, tabs of <<- taken off', () => {
    expect(run('RUN <<EOF\necho one\necho two\nEOF\n')).toEqual({ command: 'echo one\necho two\n' });
    expect(run('RUN <<-EOF\n\techo one\n\tEOF\n')).toEqual({ command: 'echo one\n' });
  });

  it('runs a lone document that starts with #! as a program of its own, from a read-only directory', () => {
    expect(run('RUN <<script\n#!/usr/bin/awk -f\nBEGIN { print 1 }\nscript\n')).toEqual({
      command: '/dev/pipes/script', program: { name: 'script', content: '#!/usr/bin/awk -f\nBEGIN { print 1 }\n' },
    });
  });

  it('hands any other line to the shell with its documents after it, as written, for the shell to read', () => {
    expect(run('RUN cat <<-A >/a && cat <<B\n\tone\n\tA\ntwo\nB\n')).toEqual({ command: 'cat <<-A >/a && cat <<B\n\tone\nA\ntwo\nB' });
  });
});
