// What a registry may send when we ask for a manifest, and what we make of it.
// We ask (Accept) for the four kinds we understand: an index (OCI) or manifest
// list (Docker) with one manifest per platform, and a single-platform image
// manifest (OCI or Docker schema 2). Old Docker schema 1 manifests are refused.
import { fail, printable } from '../errors.js';
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_TYPES, type Descriptor, type Platform } from '../image/oci.js';

export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.dockerManifest,
].join(', ');

export type ManifestKind = 'index' | 'manifest';

/** Content types that say nothing about which document it is. */
const GENERIC_TYPES = new Set(['application/json', 'application/octet-stream', 'text/plain']);

/** Index or image manifest? The document's own mediaType decides, else the Content-Type;
 *  an OCI document may have neither, and then its shape tells. */
export function manifestKind(contentType: string | undefined, document: { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown; config?: unknown }): ManifestKind {
  const mediaType = typeof document.mediaType === 'string' ? document.mediaType : contentType;
  if (mediaType !== undefined && INDEX_MEDIA_TYPES.includes(mediaType)) return 'index';
  if (mediaType !== undefined && MANIFEST_MEDIA_TYPES.includes(mediaType)) return 'manifest';
  if ((mediaType === undefined || GENERIC_TYPES.has(mediaType)) && document.schemaVersion === 2) {
    if (Array.isArray(document.manifests)) return 'index';
    if (typeof document.config === 'object' && document.config !== null) return 'manifest';
  }
  throw fail(`the registry sent a manifest of media type ${printable(mediaType ?? 'unknown')}, which tsrun does not understand`,
    'tsrun pulls OCI images and Docker schema 2 images; push the image again with a current tool');
}

// #region platform
/** "linux/arm64/v8" -> { os: "linux", architecture: "arm64", variant: "v8" }. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...extra] = text.split('/');
  if (!os || !architecture || variant === '' || extra.length > 0) {
    throw fail(`invalid platform ${JSON.stringify(text)}`, 'write it as os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7');
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function platformString(platform: Platform | undefined): string {
  if (!platform) return 'unknown';
  return printable([platform.os, platform.architecture, platform.variant].filter(Boolean).join('/'));
}

/** The entry of an index for `wanted`. Without a variant asked for, the first entry of the
 *  os and architecture wins, as docker picks; none at all is an error that lists what there is. */
export function pickPlatform(manifests: Descriptor[], wanted: Platform, where: string): Descriptor {
  const match = manifests.find((descriptor) => {
    const offered = descriptor.platform;
    return offered?.os === wanted.os && offered.architecture === wanted.architecture
      && (wanted.variant === undefined || offered.variant === wanted.variant);
  });
  if (match) return match;
  const available = manifests.map((descriptor) => platformString(descriptor.platform)).join(', ');
  throw fail(`${where} has no image for ${platformString(wanted)} (it has: ${available || 'nothing'})`, 'choose one of those with --platform');
}
// #endregion
