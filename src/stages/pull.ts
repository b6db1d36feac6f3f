// Stage 1, pull: find the image the user named, and if the store does not
// have it, fetch it from its registry (src/registry/), as `docker run` does.
// --pull decides: "missing" (the default) pulls only what is not here,
// "always" asks the registry every time, "never" uses the store alone.
// The registry client is loaded only when a pull actually happens, so a run
// from an image already here starts as fast as ever.
import type { PullPolicy } from '../container.js';
import type { Runtime } from '../runtime.js';
import { findImage, type ImageRecord } from '../store/images.js';
import { familiarString, parseReference } from '../image/reference.js';
import { fail } from '../errors.js';
import { annotate } from '../trace/span.js';
import { withoutPassword } from '../trace/redact.js';
import { pullProgressLines, type PullProgress } from '../registry/progress.js';
import type { Credentials } from '../registry/auth.js';

export interface PullStageOptions {
  policy?: PullPolicy;
  /** "os/arch[/variant]"; default the host's. */
  platform?: string;
  /** Told how the pull goes; default: Docker-like lines on stderr, as `docker run` prints them. */
  progress?: PullProgress;
  /** Who to be to the registry, if not who the config says (a daemon's client says who it is). */
  credentials?: Credentials;
}

// #region pull
export async function pull(runtime: Runtime, reference: string, options: PullStageOptions = {}): Promise<ImageRecord> {
  const policy = options.policy ?? 'missing';
  const progress = options.progress ?? pullProgressLines((line) => void process.stderr.write(line + '\n'));
  const shown = withoutPassword(reference); // a mistake, since a reference carries none; but never in a trace
  annotate({ 'container.image.name': shown });
  const local = policy === 'always' ? undefined : findImage(runtime.paths, reference);
  if (local) {
    annotate(imageAttributes(local));
    return local;
  }
  if (policy === 'never') {
    throw fail(`unable to find image '${shown}' locally`, 'pull it with `tsrun pull`, or load it with `tsrun load -i FILE`; check `tsrun images`');
  }
  const parsed = parseReference(reference); // a bad name fails here, before any network traffic
  if (policy === 'missing') progress({ type: 'missing', reference: familiarString(parsed) });

  const { pullImage } = await import('../registry/pull.js');
  const { parsePlatform } = await import('../registry/media.js');
  const platform = options.platform === undefined ? undefined : parsePlatform(options.platform);
  const pulled = await pullImage(runtime.sys, runtime.paths, parsed, { platform, progress, credentials: options.credentials });
  annotate({ 'oci.manifest.digest': pulled.digest, ...imageAttributes(pulled.image) });
  return pulled.image;
}
// #endregion

/** The image as OpenTelemetry's container.image.* attributes name it. */
function imageAttributes(image: ImageRecord) {
  return { 'container.image.id': image.id, 'container.image.tags': image.repoTags, 'container.image.repo_digests': image.repoDigests };
}
