// Docker's variable replacement and quote removal (words.ts), case by case as moby's shell lexer does them.
import { describe, expect, it } from 'vitest';
import { expandContent, expandWord, variablesIn } from '../../../src/build/words.js';

const values: Record<string, string> = { A: 'one', EMPTY: '', PATH: '/bin' };
const expand = (text: string, escape?: string) => expandWord(text, (name) => values[name], escape);

describe('expandWord', () => {
  it('replaces $NAME and ${NAME}, and an unknown name by nothing', () => {
    expect(expand('$A-${A}_$PATH:/x')).toBe('one-one_/bin:/x');
    expect(expand('x$UNSET${UNSET}y')).toBe('xy');
    expect(expand('cost $5 and $ alone')).toBe('cost $5 and $ alone');
  });

  it('knows :- and :+, with and without the colon', () => {
    expect(expand('${UNSET:-fallback} ${EMPTY:-fallback} ${EMPTY-kept} ${A:-no}')).toBe('fallback fallback  one');
    expect(expand('${A:+set} [${EMPTY:+set}] [${EMPTY+set}] [${UNSET+set}]')).toBe('set [] [set] []');
    expect(expand('${UNSET:-$A/nested}')).toBe('one/nested');
  });

  it('takes quotes out: single quotes keep $, double quotes replace it', () => {
    expect(expand('\'$A\' "$A" "a \\"b\\" \\$A"')).toBe('$A one a "b" $A');
    expect(expand('two\\ words \\$A')).toBe('two words $A');
  });

  it('uses the escape character the Dockerfile names', () => {
    expect(expand('C:`\\path `$A', '`')).toBe('C:\\path $A');
  });

  it('says what is wrong with a broken word', () => {
    expect(() => expand('"open')).toThrow('is not closed');
    expect(() => expand('${A')).toThrow();
    expect(() => expand('${A:?must}')).toThrow('unsupported modifier');
  });
});

describe('variablesIn', () => {
  it('lists the names a shell command refers to', () => {
    expect(variablesIn('echo $A ${B} $1 ${C:-x}')).toEqual(['A', 'B', 'C']);
  });
});

describe('expandContent', () => {
  it('replaces variables in a here-document\'s content, quotes being text and a backslash keeping a $', () => {
    const lookup = (name: string) => ({ NAME: 'tsrun', EMPTY: '' } as Record<string, string>)[name];
    expect(expandContent('hello "$NAME" \'${NAME}\'\n\\$NAME ${EMPTY:-none}\n', lookup)).toBe('hello "tsrun" \'tsrun\'\n$NAME none\n');
  });
});
