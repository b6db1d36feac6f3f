// From Dockerfile text to the stages a build runs (dockerfile.ts, plan.ts): the errors a Dockerfile can
// have, each naming its line, and which stages a target needs, in which order.
import { describe, expect, it } from 'vitest';
import { BuildError, parseDockerfile } from '../../../src/build/dockerfile.js';
import { planBuild } from '../../../src/build/plan.js';

const parse = (text: string) => parseDockerfile(text, 'Dockerfile');
const plan = (text: string, options: { buildArgs?: Record<string, string>; target?: string } = {}) =>
  planBuild(parse(text), { buildArgs: new Map(Object.entries(options.buildArgs ?? {})), target: options.target });
const failure = (work: () => unknown): BuildError => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).exitCode).toBe(1); // as docker build exits
    return error as BuildError;
  }
  throw new Error('no error');
};

describe('parseDockerfile', () => {
  it('reads each instruction with its line, joined continuations, flags and properties', () => {
    const { instructions } = parse('# comment\nFROM busybox AS base\nRUN echo one \\\n# between\n  two\nCOPY --chown=1:2 a b /c/\nENV A=1 B="two words"\n');
    expect(instructions.map((i) => [i.line, i.keyword])).toEqual([[2, 'FROM'], [3, 'RUN'], [6, 'COPY'], [7, 'ENV']]);
    expect(instructions[1]!.args).toBe('echo one   two');
    expect(instructions[2]!.flags).toEqual([{ name: 'chown', value: '1:2' }]);
    expect(instructions[2]!.words).toEqual(['a', 'b', '/c/']);
    expect(instructions[3]!.properties).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '"two words"' }]);
  });

  it('refuses, naming the file, the line and the instruction: an unknown word, a flag, no arguments, no FROM', () => {
    expect(failure(() => parse('FROM x\n\nBOGUS thing')).message).toBe('Dockerfile:3: BOGUS thing: unknown instruction: BOGUS');
    expect(failure(() => parse('FROM x\nRUN --mount=type=cache make')).message).toBe('Dockerfile:2: RUN --mount=type=cache make: unknown flag: --mount');
    expect(failure(() => parse('FROM x\nCOPY --chown a b')).message).toContain('--chown needs a value');
    expect(failure(() => parse('FROM x\nWORKDIR')).message).toBe('Dockerfile:2: WORKDIR: WORKDIR needs arguments');
    expect(failure(() => parse('FROM x\nCOPY onlyone')).message).toContain('COPY needs a source and a destination');
    expect(failure(() => parse('FROM x\nADD --from=y a b')).message).toBe('Dockerfile:2: ADD --from=y a b: unknown flag: --from');
    expect(failure(() => parse('FROM x\nADD a')).message).toContain('ADD needs a source and a destination');
    expect(failure(() => parse('FROM x\nHEALTHCHECK --every=5s CMD true')).message).toContain('unknown flag: --every');
    // ONBUILD's instruction is checked when it is read, as any other.
    expect(failure(() => parse('FROM x\nONBUILD ONBUILD RUN true')).message).toBe('Dockerfile:2: ONBUILD ONBUILD RUN true: ONBUILD isn\'t allowed as an ONBUILD trigger');
    expect(failure(() => parse('FROM x\nONBUILD FROM y')).message).toContain('FROM isn\'t allowed as an ONBUILD trigger');
    expect(failure(() => parse('FROM x\nONBUILD BOGUS y')).message).toBe('Dockerfile:2: BOGUS y: unknown instruction: BOGUS');
    expect(failure(() => parse('FROM x\nONBUILD COPY --mode=1 a b')).message).toContain('unknown flag: --mode');
    expect(failure(() => parse('RUN true')).message).toBe('Dockerfile: no FROM instruction');
  });
});

describe('planBuild', () => {
  it('gives FROM the global ARGs, --build-arg first', () => {
    const text = 'ARG BASE=busybox\nARG TAG\nFROM $BASE:${TAG:-latest}\n';
    expect(plan(text).stages[0]!.base).toEqual({ kind: 'image', reference: 'busybox:latest' });
    expect(plan(text, { buildArgs: { BASE: 'alpine', TAG: '3' } }).stages[0]!.base).toEqual({ kind: 'image', reference: 'alpine:3' });
  });

  it('tells an earlier stage from an image, and scratch from both', () => {
    const { stages } = plan('FROM busybox AS Build\nFROM build\nFROM scratch\nFROM later\nFROM busybox AS later\n');
    expect(stages.map((stage) => stage.base)).toEqual([
      { kind: 'image', reference: 'busybox' },
      { kind: 'stage', index: 0 }, // names are compared in lower case, as Docker does
      { kind: 'scratch' },
      { kind: 'image', reference: 'later' }, // only an earlier stage can be a base
      { kind: 'image', reference: 'busybox' },
    ]);
  });

  it('builds the stages the target needs, each after what it needs, and skips the others', () => {
    const text = [
      'FROM busybox AS deps', 'RUN make deps',
      'FROM busybox AS unused', 'RUN exit 1',
      'FROM busybox AS tools', 'COPY --from=deps /deps /deps',
      'FROM deps AS app', 'COPY --from=tools /bin/tool /bin/', 'COPY --from=1 /x /x',
      'FROM app AS test', 'RUN make test',
    ].join('\n');
    expect(plan(text).order).toEqual([0, 2, 1, 3, 4]);
    expect(plan(text, { target: 'app' }).order).toEqual([0, 2, 1, 3]);
    expect(plan(text, { target: 'tools' }).order).toEqual([0, 2]);
    expect(failure(() => plan(text, { target: 'nope' })).message).toBe('target stage "nope" could not be found');
  });

  it('refuses stages that need each other, naming the circle', () => {
    const text = 'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n';
    expect(failure(() => plan(text)).message).toBe('Dockerfile:2: COPY --from=b /x /x: the stages need each other in a circle: b → a → b');
    expect(failure(() => plan('FROM busybox AS self\nCOPY --from=self /x /y\n')).message).toContain('in a circle: self → self');
    expect(failure(() => plan('FROM busybox\nCOPY --from=7 /x /y\n')).message).toContain('there is no stage 7');
  });

  it('refuses what only ARG may do before FROM, a FROM with extra words, and two stages of one name', () => {
    expect(failure(() => plan('ENV A=1\nFROM x\n')).message).toBe('Dockerfile:1: ENV A=1: only ARG may come before the first FROM');
    expect(failure(() => plan('FROM x y\n')).message).toContain('FROM takes an image and, optionally, AS NAME');
    expect(failure(() => plan('FROM x AS a\nFROM y AS A\n')).message).toContain('there is another stage named "a"');
  });

  it('warns of a --build-arg no ARG declares, and of a variable with no value', () => {
    const { warnings } = plan('ARG USED\nFROM busybox:$USED\nARG LATER\n', { buildArgs: { USED: '1', LATER: 'x', STRAY: 'y' } });
    expect(warnings).toEqual(['one or more build-args [STRAY] were not consumed: no ARG declares them']);
    expect(plan('ARG TAG\nFROM busybox:$TAG\n').warnings).toEqual([
      'Dockerfile:2: $TAG has no value here (no ENV, or an ARG with no value or --build-arg): it is replaced by nothing',
    ]);
  });
});
