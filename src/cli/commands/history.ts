// tsrun history [--no-trunc] [-q] IMAGE: how an image was made, newest first, as `docker history` prints it.
// Each history entry is one instruction; those that added a layer have its size. An entry's IMAGE is the
// image it made when that is still in the store (a local build's steps, found through `parent`), else
// <missing> (an image pulled, whose steps were made elsewhere).
import type { CommandModule } from 'yargs';
import type { ImageRecord } from '../../store/images.js';

interface HistoryArgs { root?: string; image: string; 'no-trunc': boolean; quiet: boolean }

export const historyCommand: CommandModule<object, HistoryArgs> = {
  command: 'history <image>',
  describe: 'Show how an image was made, one line per instruction',
  builder: (yargs) => yargs
    .options({
      'no-trunc': { type: 'boolean', default: false, describe: 'Don\'t truncate output' },
      quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Only show image IDs' },
    })
    .positional('image', { type: 'string', describe: 'Image name or id' }) as never,
  handler: async (argv) => {
    const { fail } = await import('../../errors.js');
    const { storePaths } = await import('../../store/paths.js');
    const { findImage, shortId } = await import('../../store/images.js');
    const { formatTable, humanSize, timeAgo } = await import('../../docker/format.js');
    const paths = storePaths(argv.root);
    const image = findImage(paths, argv.image);
    if (!image) throw fail(`no such image: ${argv.image}`, 'see `tsrun images` for the images there are');
    const rows = historyRows(image, (id) => findImage(paths, id));
    const id = (full: string | undefined) => (full === undefined ? '<missing>' : argv['no-trunc'] ? full : shortId(full));
    if (argv.quiet) {
      process.stdout.write(rows.map((row) => `${id(row.id)}\n`).join(''));
      return;
    }
    const now = new Date();
    process.stdout.write(formatTable(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows.map((row) => [
      id(row.id),
      row.created ? timeAgo(row.created, now) : '',
      argv['no-trunc'] ? row.createdBy : ellipsis(row.createdBy, 45),
      humanSize(row.size),
      row.comment,
    ])));
  },
};

export interface HistoryRow {
  /** The image this entry made, if the store still has it. */
  id?: string;
  created?: string;
  createdBy: string;
  /** Bytes of the layer it added, unpacked; 0 for a settings change. */
  size: number;
  comment: string;
}

// #region history
/** The image's history entries, newest first, each with the layer it added and the image it made. */
export function historyRows(image: ImageRecord, find: (id: string) => ImageRecord | undefined): HistoryRow[] {
  const history = image.config.history ?? [];
  // Layers belong to the entries that are not empty_layer, in order.
  const layers = [...image.layers];
  const sized = history.map((entry) => (entry.empty_layer ? 0 : layers.shift()?.unpackedSize ?? 0));
  const rows: HistoryRow[] = [];
  let made: ImageRecord | undefined = image;
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i]!;
    rows.push({ id: made?.id, created: entry.created, createdBy: entry.created_by?.replace(/\t/g, ' ') ?? '', size: sized[i]!, comment: entry.comment ?? '' });
    // Each image tsrun makes (a commit, a build step) adds one entry to its parent's: the next older entry is the parent's.
    made = made?.parent === undefined ? undefined : find(made.parent);
  }
  return rows;
}
// #endregion

/** Docker's stringutils.Ellipsis: at most `width` characters, the last one "…" when cut. */
function ellipsis(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
