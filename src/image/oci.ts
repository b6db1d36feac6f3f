// The JSON documents an image is made of, as the OCI image spec (and Docker's
// older schema it grew from) defines them. An image is a tree of
// content-addressed blobs:
//
//   index.json ──> index (optional: one manifest per platform)
//                    └─> manifest ──> config   (the image's settings, and the diff id of every layer)
//                                 └─> layers   (tar archives, usually compressed, bottom to top)
//
// Every arrow is a descriptor: a media type, a sha256 digest and a size.
import { fail } from '../errors.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
export const CONFIG_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig];
/** Layers tsrun can unpack (unpackLayer recognises the compression from the bytes themselves). */
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPES.ociLayer, MEDIA_TYPES.ociLayerGzip, MEDIA_TYPES.ociLayerZstd,
  MEDIA_TYPES.dockerLayer, MEDIA_TYPES.dockerLayerGzip,
];

/** The name a tool gave an image inside an OCI layout: a tag ("latest") or, by some tools, a full reference. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** containerd (and so docker save) stores the full name here: "docker.io/library/busybox:latest". */
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** How a container from this image starts: what `docker inspect` shows as Config. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** A Dockerfile's SHELL: what the shell form of RUN, CMD and ENTRYPOINT runs in (Docker's extension). */
  Shell?: string[];
  /** A Dockerfile's HEALTHCHECK, recorded as Docker records it (tsrun does not run it). */
  Healthcheck?: HealthConfig;
  /** A Dockerfile's ONBUILD: instructions, as written, that a build FROM this image runs first. */
  OnBuild?: string[] | null;
}

/** The test (["CMD-SHELL", text], ["CMD", program, args…], or ["NONE"]: none, not even the base image's), and its
 *  times in nanoseconds, each only when the Dockerfile gave it. */
export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerConfig;
  /** One diff id per layer, bottom to top: the sha256 of the layer's *uncompressed* tar. */
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** The OCI image layout's marker file. */
export interface OciLayoutFile {
  imageLayoutVersion: string;
}

/** One entry of a docker-archive's manifest.json (what `docker save` writes). */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** A descriptor from a document nobody vouches for (a registry's, an image file's), checked for what
 *  tsrun reads of it: its media type, its digest (which becomes a file name, so sha256 and nothing else)
 *  and its size. `where` names it in the error: "manifest sha256:…: layers[2]". */
export function checkDescriptor(value: unknown, where: string, hint: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`${where} is not a descriptor (a JSON object)`, hint);
  const { mediaType, digest, size } = value as Record<string, unknown>;
  if (typeof mediaType !== 'string') throw fail(`${where} has no media type`, hint);
  if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw fail(`${where} has an unsupported or malformed digest ${JSON.stringify(digest)}`, 'tsrun checks sha256 digests only');
  }
  // The size is what bounds the read: without one, a registry could send bytes for ever.
  if (size === undefined) throw fail(`${where} ${digest} has no size in its descriptor`, hint);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw fail(`${where} ${digest} has an invalid size ${JSON.stringify(size)} in its descriptor`, hint);
  }
  return value as Descriptor;
}

/** The platform images must be for to run here, in OCI's words (Node says x64, OCI says amd64). */
export function hostPlatform(): Platform {
  const architectures: Partial<Record<NodeJS.Architecture, string>> = {
    x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64',
  };
  return { architecture: architectures[process.arch] ?? process.arch, os: 'linux' };
}
