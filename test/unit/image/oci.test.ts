import { describe, expect, it } from 'vitest';
import { checkDescriptor, MEDIA_TYPES } from '../../../src/image/oci.js';

describe('checkDescriptor', () => {
  const good = { mediaType: MEDIA_TYPES.ociLayerGzip, digest: `sha256:${'ab'.repeat(32)}`, size: 12 };
  const failure = (value: unknown) => {
    try {
      checkDescriptor(value, 'manifest sha256:x: layers[0]', 'export it again');
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('takes a descriptor with a media type, a sha256 digest and a size', () => {
    expect(checkDescriptor(good, 'here', 'hint')).toBe(good);
  });

  it('refuses, in one line that says where, what a damaged document has instead', () => {
    expect(failure(null)).toBe('manifest sha256:x: layers[0] is not a descriptor (a JSON object)');
    expect(failure([good])).toBe('manifest sha256:x: layers[0] is not a descriptor (a JSON object)');
    expect(failure({ ...good, mediaType: 5 })).toBe('manifest sha256:x: layers[0] has no media type');
    expect(failure({ ...good, digest: {} })).toBe('manifest sha256:x: layers[0] has an unsupported or malformed digest {}');
    expect(failure({ ...good, digest: `sha512:${'ab'.repeat(64)}` })).toMatch(/has an unsupported or malformed digest "sha512:/);
    expect(failure({ ...good, digest: 'sha256:../../etc' })).toBe('manifest sha256:x: layers[0] has an unsupported or malformed digest "sha256:../../etc"');
    expect(failure({ ...good, size: -1 })).toBe(`manifest sha256:x: layers[0] ${good.digest} has an invalid size -1 in its descriptor`);
    expect(failure({ ...good, size: '12' })).toBe(`manifest sha256:x: layers[0] ${good.digest} has an invalid size "12" in its descriptor`);
    expect(failure({ ...good, size: undefined })).toBe(`manifest sha256:x: layers[0] ${good.digest} has no size in its descriptor`);
  });
});
