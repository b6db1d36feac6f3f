// Where each span of a trace goes in a drawn waterfall (trace-page.ts draws it in SVG): its row, its depth
// under its parent, and its bar, placed and sized as fractions of the whole trace's time, so the drawing
// can stretch to any width. Also the time axis: a few round times (0, 20 ms, 40 ms, …) and where they fall.
import { formatMicroseconds, traceExtent, type SavedSpan, type SavedTrace } from './saved.js';
import { treeRows } from './waterfall.js';

export interface WaterfallBar {
  span: SavedSpan;
  /** 0 for a root span, 1 for its children, and so on. */
  depth: number;
  /** Where the bar starts, and its width: fractions of the trace's time, from 0 to 1. */
  x: number;
  width: number;
  /** Microseconds from the start of the trace to the start of the span. */
  offset: number;
  /** Its duration, as `tsrun trace show` writes it: 24.9 ms. */
  duration: string;
  failed: boolean;
}

export interface AxisTick {
  /** A fraction of the trace's time, from 0 to 1. */
  x: number;
  /** 0, 20 ms, 40 ms: one unit for the whole axis. */
  label: string;
}

export interface WaterfallLayout {
  /** One per span, depth first, children in the order they started (as `tsrun trace show`). */
  bars: WaterfallBar[];
  ticks: AxisTick[];
  /** The trace's time, in microseconds: from the earliest start to the latest end. */
  total: number;
}

/** A bar is never narrower than this: a span of 2 µs in a run of 80 ms is still seen, and clicked. */
export const MIN_BAR_WIDTH = 0.004;
/** Room for the axis' labels on a phone: at most this many ticks. */
const MAX_TICKS = 6;

export function layoutWaterfall(trace: SavedTrace): WaterfallLayout {
  const { start, end } = traceExtent(trace);
  const total = Math.max(end - start, 1);
  const bars = treeRows(trace).map(({ span, depth }): WaterfallBar => {
    const offset = span.start - start;
    const width = Math.max(span.duration / total, MIN_BAR_WIDTH);
    return {
      span, depth, offset, width,
      x: Math.min(offset / total, 1 - width), // a short span at the very end keeps its whole bar inside
      duration: formatMicroseconds(span.duration),
      failed: span.error !== undefined,
    };
  });
  return { bars, ticks: axisTicks(total), total };
}

/** Ticks at multiples of a round step (1, 2 or 5 times a power of ten microseconds, never less than one),
 *  labelled in the step's unit. */
export function axisTicks(total: number): AxisTick[] {
  const magnitude = Math.max(1, 10 ** Math.floor(Math.log10(total / MAX_TICKS)));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => total / s <= MAX_TICKS)!;
  const [unit, name] = step >= 1_000_000 ? [1_000_000, 's'] : step >= 1000 ? [1000, 'ms'] : [1, 'µs'];
  const ticks: AxisTick[] = [];
  for (let i = 0; i * step <= total; i++) {
    ticks.push({ x: (i * step) / total, label: i === 0 ? '0' : `${(i * step) / unit} ${name}` });
  }
  return ticks;
}
