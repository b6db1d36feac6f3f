// `tsrun save -o FILE IMAGE…`: images as a docker-archive, the tar `docker save`
// writes and `docker load`, `skopeo` and `tsrun load` read:
//
//   manifest.json          [{ "Config": "<id>.json", "RepoTags": [...], "Layers": ["<diff id>/layer.tar", …] }]
//   <id>.json              each image's config
//   <diff id>/layer.tar    each layer, uncompressed: its name is the sha256 of its bytes
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { fail } from '../errors.js';
import { blobPath, tmpDir, type StorePaths } from './paths.js';
import { makeStagingDir } from './atomic.js';
import { findImage, type ImageRecord } from './images.js';
import { familiarString, parseReference } from '../image/reference.js';
import { decompress } from '../image/compression.js';
import type { DockerArchiveEntry } from '../image/oci.js';

// #region save
export async function saveImages(paths: StorePaths, names: string[], output: NodeJS.WritableStream): Promise<void> {
  const images = names.map((name) => {
    const image = findImage(paths, name);
    if (!image) throw fail(`no such image: ${name}`, 'see `tsrun images` for the images there are');
    return { image, tags: tagsToSave(image, name) };
  });
  // Layers are written uncompressed, and a tar entry needs its size first: each is decompressed to a scratch file.
  const scratch = makeStagingDir(tmpDir(paths), 'save');
  try {
    const pack = tarPack();
    const written = pipeline(pack, output);
    const manifest: DockerArchiveEntry[] = [];
    const savedLayers = new Set<string>();
    for (const { image, tags } of images) {
      const configName = `${image.id.slice('sha256:'.length)}.json`;
      await addFile(pack, configName, blobPath(paths, image.id));
      const layers: string[] = [];
      for (const layer of image.layers) {
        const name = `${layer.diffId.slice('sha256:'.length)}/layer.tar`;
        if (!savedLayers.has(name)) {
          const plain = path.join(scratch, 'layer.tar');
          await pipeline(decompress(fs.createReadStream(blobPath(paths, layer.digest))), fs.createWriteStream(plain));
          await addFile(pack, name, plain);
          fs.rmSync(plain);
          savedLayers.add(name);
        }
        layers.push(name);
      }
      manifest.push({ Config: configName, RepoTags: tags, Layers: layers });
    }
    await addBytes(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
    pack.finalize();
    await written;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
// #endregion

/** A name given on the command line is saved as it is; an id saves every tag the image has, as docker does. */
function tagsToSave(image: ImageRecord, asked: string): string[] {
  const byName = image.repoTags.find((tag) => tag === safeCanonical(asked));
  const tags = byName ? [byName] : image.repoTags;
  return tags.map((tag) => familiarString(parseReference(tag)));
}

function safeCanonical(text: string): string | undefined {
  try {
    return parseReference(text).canonical;
  } catch {
    return undefined; // an id, not a name
  }
}

function addFile(pack: Pack, name: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const entry = pack.entry({ name, size: fs.statSync(file).size, mode: 0o644, mtime: new Date(0) }, (error) => (error ? reject(error) : resolve()));
    pipeline(fs.createReadStream(file), entry).catch(reject);
  });
}

function addBytes(pack: Pack, name: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: bytes.length, mode: 0o644, mtime: new Date(0) }, bytes, (error) => (error ? reject(error) : resolve()));
  });
}
