import { describe, expect, it } from 'vitest';
import { mountSteps } from '../../../src/volumes/mounts.js';
import { parseMountFlag, parseTmpfsFlag } from '../../../src/volumes/spec.js';

const tmpfsMount = (spec: ReturnType<typeof parseTmpfsFlag>) => mountSteps([{ ...spec, hostPath: 'tmpfs', file: false }], '/rootfs').find((step) => step.op === 'mount');

describe('mountSteps for a tmpfs', () => {
  it('mounts it noexec, nosuid and nodev by default, as docker does', () => {
    expect(tmpfsMount(parseTmpfsFlag('/t:size=1m'))).toEqual({
      op: 'mount', source: 'tmpfs', root: '/rootfs', target: '/t', fstype: 'tmpfs', flags: ['MS_NOEXEC', 'MS_NOSUID', 'MS_NODEV'], data: 'mode=1777,size=1048576',
    });
    expect(tmpfsMount(parseMountFlag('type=tmpfs,target=/t,readonly'))).toMatchObject({ flags: ['MS_NOEXEC', 'MS_NOSUID', 'MS_NODEV', 'MS_RDONLY'] });
  });

  it('lifts only what the flag allows back', () => {
    expect(tmpfsMount(parseTmpfsFlag('/t:exec'))).toMatchObject({ flags: ['MS_NOSUID', 'MS_NODEV'] });
    expect(tmpfsMount(parseTmpfsFlag('/t:dev,ro'))).toMatchObject({ flags: ['MS_NOEXEC', 'MS_NOSUID', 'MS_RDONLY'] });
    expect(tmpfsMount(parseTmpfsFlag('/t:exec,suid,dev'))).toMatchObject({ flags: [] });
  });
});
