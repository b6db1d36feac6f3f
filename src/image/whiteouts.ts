// How an image layer says "delete this". A layer is a tar of what changed, so
// a deletion has to travel as a file with a special name (the convention comes
// from AUFS and is part of the OCI image spec):
//
//   etc/.wh.motd          "etc/motd existed in a lower layer; it is gone now"
//   var/cache/.wh..wh..opq "var/cache was replaced: hide everything lower layers had in it"
//
// overlayfs has its own way to say the same things, which is what we store:
//
//   a whiteout    is a character device 0:0 named like the deleted file
//   an opaque dir carries the xattr trusted.overlay.opaque = "y"
//
// This file only names and recognises the markers; src/image/unpack.ts turns
// them into the overlayfs form while unpacking.

/** A file whose name starts with this hides the same name, without the prefix, in lower layers. */
export const WHITEOUT_PREFIX = '.wh.';

/** AUFS kept its own bookkeeping under names starting with this; images may still carry it. */
export const AUFS_METADATA_PREFIX = '.wh..wh.';

/** The one AUFS bookkeeping name that means something to us: "this directory is opaque". */
export const OPAQUE_MARKER = '.wh..wh..opq';

/** The xattr overlayfs reads on a directory of a layer to know it hides lower layers' contents. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/** The value of OVERLAY_OPAQUE_XATTR that means "opaque". */
export const OVERLAY_OPAQUE_VALUE = 'y';

/** What a tar entry's name means. Paths are returned as they appear in the tar
 *  (not cleaned), so the caller's safety check sees exactly what the layer wrote. */
export type EntryName =
  /** Delete `target` (e.g. "etc/motd") from lower layers. */
  | { kind: 'whiteout'; target: string }
  /** Hide lower layers' contents of `dir` (e.g. "var/cache/"; "." for the layer's root). */
  | { kind: 'opaque'; dir: string }
  /** AUFS bookkeeping, or a whiteout that names no file: nothing to write. */
  | { kind: 'ignored' }
  /** An ordinary file, directory, link or device. */
  | { kind: 'normal' };

const NORMAL: EntryName = { kind: 'normal' };

export function classifyEntryName(name: string): EntryName {
  if (!name.includes(WHITEOUT_PREFIX)) return NORMAL; // nearly every entry: no marker anywhere in its name
  const trimmed = name.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const dir = trimmed.slice(0, slash + 1); // "" or ending in "/"
  const base = trimmed.slice(slash + 1);

  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir: dir || '.' };

  // Anything under (or named) .wh..wh.* is AUFS's own: its hardlink directory, its orphans.
  if (trimmed.split('/').some((part) => part.startsWith(AUFS_METADATA_PREFIX))) return { kind: 'ignored' };

  if (base.startsWith(WHITEOUT_PREFIX)) {
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    // ".wh.", ".wh.." and ".wh..." would hide "", "." or "..": no sibling file has those names.
    if (hidden === '' || hidden === '.' || hidden === '..') return { kind: 'ignored' };
    return { kind: 'whiteout', target: dir + hidden };
  }

  return NORMAL;
}
