// tsrun history [--no-trunc] [-q] IMAGE: how an image was made, newest first, as `docker history` prints it
// (the rows: src/store/history.ts). An entry whose image the store does not have shows as <missing>.
import type { CommandModule } from 'yargs';

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
    const { historyRows } = await import('../../store/history.js');
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

/** Docker's stringutils.Ellipsis: at most `width` characters, the last one "…" when cut. */
function ellipsis(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
