// Extended attributes in image layers. A tar header has no field for them, so
// they travel in a PAX extended header, written just before the file's own: a
// list of records "LENGTH KEY=VALUE\n", where LENGTH counts the record's bytes,
// its own digits and the newline included. Two spellings carry an xattr:
//
//   SCHILY.xattr.security.capability=<the value's bytes>   GNU tar, Docker, umoci (Go's archive/tar)
//   LIBARCHIVE.xattr.security.capability=<base64>         bsdtar; the name is %-encoded
//
// A value is bytes, not text. `setcap cap_setuid=ep` stores a little-endian
// struct, 01 00 00 02 80 00 00 00 …, and 0x80 alone is not UTF-8: read as text,
// the capability is lost. So these records are read and written as bytes here.
import { fail } from '../errors.js';

/** A PAX header's records: key (text) to value (bytes). */
export type PaxRecords = Map<string, Buffer>;

const DAMAGED = 'the image is damaged or malicious; tsrun will not unpack it';

/** The records of one PAX extended header's data. A later record with the same key wins, as POSIX says. */
export function parsePaxRecords(block: Buffer): PaxRecords {
  const records: PaxRecords = new Map();
  let at = 0;
  while (at < block.length) {
    const space = block.indexOf(' ', at);
    const digits = space === -1 ? '' : block.toString('latin1', at, space);
    const length = Number(digits);
    const end = at + length;
    const equals = block.indexOf('=', space);
    if (!/^[0-9]+$/.test(digits) || end > block.length || block[end - 1] !== 0x0a || equals === -1 || equals >= end) {
      throw fail(`malformed PAX record at byte ${at} of an extended header`, DAMAGED);
    }
    // Copied out: a slice would keep the parser's whole chunk in memory.
    records.set(block.toString('utf8', space + 1, equals), Buffer.from(block.subarray(equals + 1, end - 1)));
    at = end;
  }
  return records;
}

/** One PAX extended header's data holding `records`. */
export function encodePaxRecords(records: Iterable<[string, Buffer]>): Buffer {
  const encoded: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
    // LENGTH counts its own digits: 98 bytes of body make "100 …", not "99 …".
    let length = body.length;
    while (String(length).length + body.length !== length) length = String(length).length + body.length;
    encoded.push(Buffer.from(String(length)), body);
  }
  return Buffer.concat(encoded);
}

const SCHILY_XATTR = 'SCHILY.xattr.';
const LIBARCHIVE_XATTR = 'LIBARCHIVE.xattr.';

/** The extended attributes PAX records carry, name to value, in either spelling. */
export function xattrsInPax(records: PaxRecords): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of records) {
    if (key.startsWith(SCHILY_XATTR)) xattrs.set(key.slice(SCHILY_XATTR.length), value);
    else if (key.startsWith(LIBARCHIVE_XATTR)) xattrs.set(percentDecoded(key.slice(LIBARCHIVE_XATTR.length)), Buffer.from(value.toString('latin1'), 'base64'));
  }
  return xattrs;
}

function percentDecoded(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    throw fail(`malformed extended attribute name in a PAX record: ${JSON.stringify(name)}`, DAMAGED);
  }
}

/** PAX records for `xattrs`, in the spelling everyone reads. */
export function paxRecordsFor(xattrs: Map<string, Buffer>): [string, Buffer][] {
  return [...xattrs].map(([name, value]) => [SCHILY_XATTR + name, value]);
}

// #region xattr-policy
/** Whether a layer may give a file the extended attribute `name`. Layers are
 *  untrusted input, and some attributes are not data but tell the kernel what to do:
 *    trusted.*   privileged bookkeeping, overlayfs's among it: a layer's own
 *                trusted.overlay.opaque or .redirect would hide or borrow files
 *                of the layers below. Only the runtime writes them (see whiteouts.ts).
 *    security.*  only security.capability, the file capabilities `setcap` sets,
 *                which Docker and containerd keep. Docker writes no other
 *                security.* attribute into a layer, and a label such as
 *                security.selinux is the host's to give, not the image's.
 *  Everything else (user.*, system.posix_acl_*) is the files' own data. */
export function imageMayCarryXattr(name: string): boolean {
  if (name.startsWith('trusted.')) return false;
  if (name.startsWith('security.')) return name === 'security.capability';
  return true;
}
// #endregion
