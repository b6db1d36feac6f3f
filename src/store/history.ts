// An image's history as `docker history` shows it, for `tsrun history` and the daemon's GET /images/{name}/history.
// Each history entry is one instruction; those that added a layer have its size. An entry's image is the one it
// made when that is still in the store (a local build's steps, found through `parent`), else none (an image
// pulled, whose steps were made elsewhere).
import type { ImageRecord } from './images.js';

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
