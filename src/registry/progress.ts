// What a pull tells as it goes, as events rather than text: the CLI draws
// them as a progress bar per layer on a terminal (src/cli/pull-progress.ts),
// or writes the same lines `docker pull` writes when it is not on one:
//
//   latest: Pulling from library/debian
//   a1b2c3d4e5f6: Pulling fs layer
//   a1b2c3d4e5f6: Downloading
//   a1b2c3d4e5f6: Download complete
//   a1b2c3d4e5f6: Pull complete
//   Digest: sha256:…
//   Status: Downloaded newer image for debian:latest

/** Where a layer is: waiting for its turn, already in the store, arriving, all arrived (being
 *  unpacked: both happen at once, the unpacking finishes just after the last byte), in the store. */
export type LayerStatus = 'waiting' | 'exists' | 'downloading' | 'downloaded' | 'complete';

export type PullEvent =
  /** `tsrun run` found no such image in the store, and pulls it. */
  | { type: 'missing'; reference: string }
  | { type: 'start'; tagOrDigest: string; repository: string }
  /** A registry mirror did not give the manifest: the next endpoint is asked. */
  | { type: 'mirror-failed'; mirror: string; reason: string; next: string }
  /** `layer` is the first 12 hex digits of the layer's digest, as Docker shows it. */
  | { type: 'layer'; layer: string; status: LayerStatus }
  /** `received` of the layer's `total` bytes have arrived (often: many times a second). */
  | { type: 'bytes'; layer: string; received: number; total: number }
  | { type: 'done'; digest: string; upToDate: boolean; reference: string };

export type PullProgress = (event: PullEvent) => void;

export const LAYER_STATUS_TEXT: Record<LayerStatus, string> = {
  waiting: 'Pulling fs layer',
  exists: 'Already exists',
  downloading: 'Downloading',
  downloaded: 'Download complete',
  complete: 'Pull complete',
};

/** The Docker-like text of an event: none for the byte counts, two lines for the end. */
export function pullEventLines(event: PullEvent): string[] {
  switch (event.type) {
    case 'missing': return [`Unable to find image '${event.reference}' locally`];
    case 'start': return [`${event.tagOrDigest}: Pulling from ${event.repository}`];
    case 'mirror-failed': return [`mirror ${event.mirror} failed (${event.reason}); trying ${event.next}`];
    case 'layer': return [`${event.layer}: ${LAYER_STATUS_TEXT[event.status]}`];
    case 'bytes': return [];
    case 'done': return [
      `Digest: ${event.digest}`,
      `Status: ${event.upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${event.reference}`,
    ];
  }
}

/** Progress as plain lines, one `write` each. */
export function pullProgressLines(write: (line: string) => void): PullProgress {
  return (event) => pullEventLines(event).forEach(write);
}
