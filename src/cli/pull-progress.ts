// How `tsrun pull` shows its progress, as `docker pull` does. On a terminal, a
// line per layer that changes in place, a bar while the layer arrives:
//
//   a1b2c3d4e5f6: Downloading [=====>                     ]  12.3MB/40.1MB
//   b2c3d4e5f6a1: Already exists
//
// Anywhere else (a pipe, a log file, a test), plain lines that never change
// (src/registry/progress.ts). With --quiet, nothing.
import type { MultiBar, SingleBar } from 'cli-progress';
import { pullEventLines, pullProgressLines, type LayerStatus, type PullEvent, type PullProgress } from '../registry/progress.js';

export interface PullReporter {
  tell: PullProgress;
  /** The bars' last state stays on the screen, and the cursor comes back; call it whatever happened. */
  stop(): void;
}

export async function pullReporter(stream: NodeJS.WriteStream, quiet: boolean): Promise<PullReporter> {
  if (quiet) return { tell: () => {}, stop: () => {} };
  if (!stream.isTTY) return { tell: pullProgressLines((line) => void stream.write(line + '\n')), stop: () => {} };
  // Loaded for a terminal only: a pull in a script starts that much sooner.
  const { MultiBar } = (await import('cli-progress')).default; // CommonJS: its exports are the default
  return new LayerBars(stream, new MultiBar({
    stream,
    hideCursor: true,
    format: (_options, params, payload: LayerState) => layerLine(payload, params.value),
  }));
}

/** What a layer's line shows (with the bytes received so far). */
export interface LayerState {
  layer: string;
  status: LayerStatus;
  /** The layer's size, once its bytes start arriving. */
  total?: number;
}

const BAR_WIDTH = 50; // Docker's

/** One layer's line on a terminal: its status, and while it downloads, a bar and the byte counts. */
export function layerLine({ layer, status, total }: LayerState, received: number): string {
  switch (status) {
    case 'waiting': return `${layer}: Pulling fs layer`;
    case 'exists': return `${layer}: Already exists`;
    case 'downloading':
      if (total === undefined) return `${layer}: Downloading`;
      return `${layer}: Downloading ${bar(received / total)} ${humanSize(received)}/${humanSize(total)}`;
    case 'downloaded': return `${layer}: Extracting`; // the last bytes are being unpacked
    case 'complete': return `${layer}: Pull complete`;
  }
}

/** "[=====>      ]": `fraction` of the bar done, an arrow at its head. */
function bar(fraction: number): string {
  const done = Math.min(BAR_WIDTH, Math.floor(Math.max(0, fraction) * BAR_WIDTH));
  const head = done === 0 ? '' : '='.repeat(done - 1) + '>';
  return `[${head}${' '.repeat(BAR_WIDTH - done)}]`;
}

/** Sizes as Docker writes them: decimal units, three significant digits ("12.3MB", "512B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

/** A line per layer, redrawn in place (cli-progress does the redrawing, at most 10 times a second).
 *  The lines before and after the layers are written as they are. */
class LayerBars implements PullReporter {
  private readonly layers = new Map<string, SingleBar>();

  constructor(private readonly stream: NodeJS.WriteStream, private readonly bars: MultiBar) {}

  tell = (event: PullEvent): void => {
    switch (event.type) {
      case 'layer': {
        const line = this.layers.get(event.layer);
        if (line) line.update({ status: event.status });
        else this.layers.set(event.layer, this.bars.create(0, 0, { layer: event.layer, status: event.status } satisfies LayerState));
        return;
      }
      case 'bytes': {
        this.layers.get(event.layer)!.update(event.received, { total: event.total });
        return;
      }
      default:
        // Only the first lines come before the layers, and only the last ones after them.
        if (event.type === 'done') this.stop();
        for (const line of pullEventLines(event)) this.stream.write(line + '\n');
    }
  };

  stop(): void {
    if (this.layers.size > 0) this.bars.stop();
    this.layers.clear();
  }
}
