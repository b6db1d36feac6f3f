import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkDescriptor } from '../../../src/image/oci.js';
import type { Descriptor } from '../../../src/image/oci.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Staging } from '../../../src/store/staging.js';
import { makeStagingDir } from '../../../src/store/atomic.js';
import { tmpDir } from '../../../src/store/paths.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';

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
    expect(() => checkDescriptor(undefined, 'config', 'hint')).toThrow('config is not a descriptor (a JSON object)');
  });
});

// The digest check every pulled, loaded or committed blob goes through before it is kept: no root needed.
describe('Staging.keepBlob', () => {
  let store: ReturnType<typeof tempStore>;
  beforeEach(() => { store = tempStore(); });
  afterEach(() => store.remove());

  async function keep(bytes: string, expected: { digest: string; size?: number } | undefined) {
    const staging = new Staging(fakeSyscalls(), store, makeStagingDir(tmpDir(store), 'test'), 'pull it again');
    const incoming = staging.incomingFile();
    fs.writeFileSync(incoming, bytes);
    return { id: (await staging.keepBlob(incoming, 'layer', expected)).digest };
  }
  const digestOf = (text: string) => `sha256:${crypto.createHash('sha256').update(text).digest('hex')}`;

  it('keeps bytes whose sha256 and size are the ones expected, and bytes nothing was expected of', async () => {
    expect((await keep('layer bytes', { digest: digestOf('layer bytes'), size: 11 })).id).toBe(digestOf('layer bytes'));
    expect((await keep('loaded', undefined)).id).toBe(digestOf('loaded'));
  });

  it('refuses bytes that are not the ones their digest names, one line with the hint, and keeps nothing', async () => {
    await expect(keep('tampered', { digest: digestOf('original') })).rejects.toThrow(/^layer sha256:[0-9a-f]{64} does not match its digest: got sha256:/);
    await expect(keep('tampered', { digest: digestOf('original') })).rejects.toMatchObject({ hint: 'pull it again', exitCode: 125 });
    await expect(keep('short', { digest: digestOf('short'), size: 10 })).rejects.toThrow(/10/);
    expect(fs.existsSync(path.join(store.root, 'blobs'))).toBe(false);
  });
});
