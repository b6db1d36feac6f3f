// GET /system/df: `docker system df`, the room images, containers and volumes take. The CLI does the sums:
// an image is active when a container uses it, and what it counts reclaimable is LayersSize less the
// Size - SharedSize of each active image; a container's size is what it wrote (SizeRw); a volume's, its data.
import { listImages } from '../store/images.js';
import { directorySize } from '../store/disk-usage.js';
import { reconcileAll } from '../containers/reconcile.js';
import { containersUsingVolume, listVolumes, volumeDataDir, volumeDocument } from '../volumes/store.js';
import { containerSummary } from './list-containers.js';
import { imageSummary } from './images.js';
import { sendJson, type DaemonRequest } from './http.js';

export async function df({ runtime, res }: DaemonRequest): Promise<void> {
  const { paths } = runtime;
  const containers = await reconcileAll(runtime);
  const images = listImages(paths);
  // A layer several images share is on disk once: counted once in LayersSize, and as shared in each of them.
  const layerSizes = new Map(images.flatMap((image) => image.layers.map((layer) => [layer.diffId, layer.unpackedSize] as const)));
  const holders = new Map<string, number>();
  for (const layer of images.flatMap((image) => image.layers)) holders.set(layer.diffId, (holders.get(layer.diffId) ?? 0) + 1);
  const now = new Date();
  sendJson(res, 200, {
    LayersSize: [...layerSizes.values()].reduce((total, size) => total + size, 0),
    Images: images.map((image) => imageSummary(image, image.repoTags, image.repoDigests, {
      Containers: containers.filter((container) => container.image.id === image.id).length,
      SharedSize: image.layers.filter((layer) => holders.get(layer.diffId)! > 1).reduce((total, layer) => total + layer.unpackedSize, 0),
    })),
    Containers: containers.map((container) => containerSummary(runtime, container, now, true)),
    Volumes: listVolumes(paths).map((volume) => ({
      ...volumeDocument(paths, volume),
      UsageData: { RefCount: containersUsingVolume(paths, volume.Name).length, Size: directorySize(volumeDataDir(paths, volume.Name)) },
    })),
    // tsrun's build cache is not BuildKit's: `docker system df` has no line for it to fill.
    BuildCache: [],
    BuilderSize: 0,
  });
}
