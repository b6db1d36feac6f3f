// `tsrun push`'s lines: docker push's, one an event, none for the bytes as they go up.
import { describe, expect, it } from 'vitest';
import { pushEventLine } from '../../../src/registry/push.js';

describe('push progress', () => {
  it('writes each event as docker push writes it when not on a terminal', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    expect([
      pushEventLine({ type: 'start', repository: '127.0.0.1:5000/demo/pushed2' }),
      pushEventLine({ type: 'layer', layer: '85f63bac19ce', status: 'Preparing' }),
      pushEventLine({ type: 'bytes', layer: '85f63bac19ce', sent: 33280, total: 400000 }),
      pushEventLine({ type: 'layer', layer: '85f63bac19ce', status: 'Pushed' }),
      pushEventLine({ type: 'done', tag: '1', digest, size: 738 }),
    ]).toEqual([
      'The push refers to repository [127.0.0.1:5000/demo/pushed2]',
      '85f63bac19ce: Preparing',
      undefined,
      '85f63bac19ce: Pushed',
      `1: digest: ${digest} size: 738`,
    ]);
  });
});
