// Stage 1, pull: find the image the user named. For now images enter the
// store with `tsrun load`; fetching them from a registry arrives with the
// registry client, behind this same function.
import type { Runtime } from '../container.js';
import { findImage, type ImageRecord } from '../store/images.js';
import { fail } from '../errors.js';
import { inSpan } from '../trace/span.js';

// #region pull
export async function pull(runtime: Runtime, reference: string): Promise<ImageRecord> {
  return inSpan('tsrun.pull', { 'container.image.name': reference }, (span) => {
    const image = findImage(runtime.paths, reference);
    if (!image) {
      throw fail(`unable to find image '${reference}' locally`, 'load it with `tsrun load -i FILE` and check `tsrun images`');
    }
    span.setAttribute('container.image.id', image.id);
    return image;
  });
}
// #endregion
