// tsrun images [-q] [--digests] [--no-trunc]: the images in the store, as docker lists them.
import type { CommandModule } from 'yargs';
import type { ImageRecord } from '../../store/images.js';
import type { ImageReference } from '../../image/reference.js';

export interface ImagesArgs { root?: string; all: boolean; quiet: boolean; digests: boolean; 'no-trunc': boolean }

export const imagesCommand: CommandModule<object, ImagesArgs> = {
  command: 'images',
  describe: 'List images',
  builder: (yargs) => yargs.options({
    all: { alias: 'a', type: 'boolean', default: false, describe: 'Show all images (by default a build\'s intermediate images are hidden)' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only show image IDs' },
    digests: { type: 'boolean', default: false, describe: 'Show digests' },
    'no-trunc': { type: 'boolean', default: false, describe: 'Don\'t truncate output' },
  }),
  handler: async (argv) => {
    const { storePaths } = await import('../../store/paths.js');
    const { imagesToList } = await import('../../store/images.js');
    await printImages(argv, imagesToList(storePaths(argv.root), argv.all));
  },
};

/** An image as `images` lists it, whether the store or a daemon (src/cli/client/) told it. */
export type ImageListing = Pick<ImageRecord, 'id' | 'repoTags' | 'repoDigests' | 'created' | 'size'>;

/** The images as `docker images` prints them: ids alone (-q), or a row per name. */
export async function printImages(argv: Pick<ImagesArgs, 'quiet' | 'digests' | 'no-trunc'>, images: ImageListing[]): Promise<void> {
  const { shortId } = await import('../../store/images.js');
  const { parseReference } = await import('../../image/reference.js');
  const { formatTable, humanSize, timeAgo } = await import('../../docker/format.js');
  const id = (full: string) => (argv['no-trunc'] ? full : shortId(full));
  if (argv.quiet) {
    process.stdout.write([...new Set(images.map((image) => id(image.id)))].map((line) => line + '\n').join(''));
    return;
  }
  const now = new Date();
  const named = images.map((image) => ({ image, tagged: image.repoTags.map(parseReference), digested: image.repoDigests.map(parseReference) }));
  const rows = named.flatMap(imageRows).map(({ image, repository, tag, digest }) => [
    repository, tag, ...(argv.digests ? [digest] : []), id(image.id), timeAgo(image.created, now), humanSize(image.size),
  ]);
  const headers = ['REPOSITORY', 'TAG', ...(argv.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  process.stdout.write(formatTable(headers, rows));
}

interface ImageRow { image: ImageListing; repository: string; tag: string; digest: string }

/** Docker's rows for one image: one per tag; one per repository known only by digest; one
 *  "<none> <none>" row for an image with no name at all (a dangling image). The DIGEST
 *  column shows the digest the image has in that repository. */
function imageRows({ image, tagged, digested }: { image: ImageListing; tagged: ImageReference[]; digested: ImageReference[] }): ImageRow[] {
  const digestIn = (name: string) => digested.find((reference) => reference.name === name)?.digest ?? '<none>';
  const rows = tagged.map((reference) => ({ image, repository: reference.familiar, tag: reference.tag!, digest: digestIn(reference.name) }));
  for (const reference of digested) {
    if (!tagged.some((other) => other.name === reference.name)) {
      rows.push({ image, repository: reference.familiar, tag: '<none>', digest: reference.digest! });
    }
  }
  return rows.length > 0 ? rows : [{ image, repository: '<none>', tag: '<none>', digest: '<none>' }];
}
