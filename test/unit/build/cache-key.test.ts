// The cache key (cache-key.ts): the same step from the same parent is the same key, and each thing that
// decides what a step makes changes it.
import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../../src/build/cache-key.js';

describe('cacheKey', () => {
  const step = { parent: 'sha256:aaa', text: 'RUN make', args: ['V=1'], files: 'sha256:fff' };

  it('is the same for the same step, and a sha256', () => {
    expect(cacheKey(step)).toBe(cacheKey({ ...step }));
    expect(cacheKey(step)).toMatch(/^sha256:[a-f0-9]{64}$/);
  });

  it('changes with the parent, the text, a build arg and the files', () => {
    const keys = [step, { ...step, parent: 'sha256:bbb' }, { ...step, text: 'RUN make all' }, { ...step, args: ['V=2'] }, { ...step, args: [] }, { ...step, files: 'sha256:eee' }].map(cacheKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('cannot be made equal by moving text between fields', () => {
    expect(cacheKey({ parent: 'a', text: 'b c' })).not.toBe(cacheKey({ parent: 'a b', text: 'c' }));
  });
});
