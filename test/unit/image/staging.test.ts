import { describe, expect, it } from 'vitest';
import { checkDescriptor } from '../../../src/image/staging.js';
import type { Descriptor } from '../../../src/image/oci.js';

const digest = `sha256:${'a'.repeat(64)}`;
const descriptor = (fields: Record<string, unknown>) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, ...fields }) as unknown as Descriptor;

describe('checkDescriptor', () => {
  it('takes a sha256 digest and a whole size, 0 included', () => {
    expect(checkDescriptor(descriptor({ size: 0 }), 'layer', 'hint')).toMatchObject({ digest, size: 0 });
    expect(checkDescriptor(descriptor({ size: 1234 }), 'layer', 'hint').size).toBe(1234);
  });

  it('refuses a descriptor without a size, naming the digest: the size is what bounds the read', () => {
    expect(() => checkDescriptor(descriptor({}), 'config', 'hint')).toThrow(`config ${digest} has no size in its descriptor`);
  });

  it('refuses a size that is not a whole number of bytes', () => {
    for (const size of [-1, 1.5, '12', 2 ** 53, null]) {
      expect(() => checkDescriptor(descriptor({ size }), 'layer', 'hint')).toThrow(`layer ${digest} has an invalid size ${JSON.stringify(size)}`);
    }
  });

  it('refuses a digest that is not sha256, or none at all', () => {
    expect(() => checkDescriptor(descriptor({ digest: 'sha512:ab', size: 1 }), 'manifest', 'hint')).toThrow('manifest has an unsupported or malformed digest "sha512:ab"');
    expect(() => checkDescriptor(undefined, 'config', 'hint')).toThrow('config has an unsupported or malformed digest undefined');
  });
});
