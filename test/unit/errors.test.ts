import { describe, expect, it } from 'vitest';
import { errorText, printable } from '../../src/errors.js';

describe('errorText', () => {
  const systemError = (path: string) => Object.assign(new Error('raw'), { code: 'EINVAL', syscall: 'lsetxattr', path });

  it('tells a system error as "syscall path: CODE"', () => {
    expect(errorText(systemError('/var/lib/tsrun/x'))).toBe('lsetxattr /var/lib/tsrun/x: EINVAL');
  });

  it('quotes a path that holds a line break, so that the message stays one line', () => {
    expect(errorText(systemError('/dest/line\nbreak'))).toBe('lsetxattr "/dest/line\\nbreak": EINVAL');
  });
});

describe('printable', () => {
  it('leaves ordinary text as it is, and JSON-quotes text with a control character', () => {
    expect(printable('application/vnd.oci.image.layer.v1.tar')).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(printable('line\nbreak')).toBe('"line\\nbreak"');
    expect(printable('bell\x07')).toBe('"bell\\u0007"');
  });
});
