// `tsrun trace show`: a saved trace drawn as a waterfall, the picture Jaeger
// shows, in the terminal. One row per span, nested under its parent, siblings
// in the order they started; a bar placed and sized in proportion to the whole
// trace; the span's duration and attributes worth a glance; failures in red.
//
//   tsrun run             │████████████████████████████████████████│  74.2 ms  process.exit.code=0
//   ├─ tsrun.pull         │█                                       │  1.12 ms  container.image.name=tsrun-demo
//   └─ tsrun.exec         │                     ███████████████████│  35.1 ms  process.pid=4242
import type { ChalkInstance } from 'chalk';
import { formatMicroseconds, rootSpans, traceExtent, type SavedSpan, type SavedTrace } from './saved.js';

export interface WaterfallOptions {
  /** chalk at level 0 draws plain text (NO_COLOR, or not a terminal). */
  chalk: ChalkInstance;
  /** The terminal's width: longer rows are cut. Infinity when writing to a file or a pipe. */
  width: number;
}

/** The bar's width when nothing limits it (a pipe), and its bounds in a terminal. */
const BAR_WIDTH = 40;
const MIN_BAR_WIDTH = 10;
/** The span names' column never takes more than this; longer names are cut. */
const MAX_NAME_WIDTH = 44;
const DURATION_WIDTH = 8;
/** Room a terminal row keeps for the attributes before the bar gets narrower. */
const ATTRIBUTES_ROOM = 30;

/** An attribute's value is cut after this many characters (a child's list of steps can fill a screen). */
const MAX_VALUE_WIDTH = 60;

/** Attributes every span of a run repeats (shown once, in the heading) or too long for a row. */
const NOT_SHOWN_PER_SPAN = ['container.id', 'container.runtime.name', 'container.image.id'];

/** The trace as lines of text: a heading, then one row per span. */
export function waterfallLines(trace: SavedTrace, { chalk, width }: WaterfallOptions): string[] {
  const rows = treeRows(trace);
  const { start, end } = traceExtent(trace);
  const total = Math.max(end - start, 1);
  const nameWidth = Math.min(MAX_NAME_WIDTH, Math.max(...rows.map((row) => row.label.length)));
  const fixedWidth = nameWidth + DURATION_WIDTH + 6; // all of a row but its bar and attributes: name, frames, duration, spaces
  const barWidth = Number.isFinite(width) ? Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, width - fixedWidth - ATTRIBUTES_ROOM)) : BAR_WIDTH;

  const lines = [heading(trace, chalk), ''];
  for (const { span, label } of rows) {
    const failed = span.error !== undefined;
    const name = label.length > nameWidth ? label.slice(0, nameWidth - 1) + '…' : label.padEnd(nameWidth);
    const bar = barCells(span.start - start, span.duration, total, barWidth);
    const duration = formatMicroseconds(span.duration).padStart(DURATION_WIDTH);
    const details = cut([...attributeTexts(span.attributes), ...(failed ? [`ERROR ${span.error}`.trim()] : [])].join('  '), width - fixedWidth - barWidth);
    const paint = failed ? chalk.red : chalk.cyan;
    lines.push(`${failed ? chalk.red(name) : name} ${chalk.dim('│')}${paint(bar)}${chalk.dim('│')} ${duration}  ${failed ? chalk.red(details) : chalk.dim(details)}`.trimEnd());
  }
  return lines;
}

/** The span's bar: `width` cells for the whole trace, filled from where it starts to where it ends,
 *  at least one cell, so that a span of a few microseconds is still seen. */
export function barCells(offset: number, duration: number, total: number, width: number): string {
  const from = Math.min(width - 1, Math.floor((offset / total) * width));
  const to = Math.max(from + 1, Math.min(width, Math.round(((offset + duration) / total) * width)));
  return ' '.repeat(from) + '█'.repeat(to - from) + ' '.repeat(width - to);
}

export interface Row {
  span: SavedSpan;
  /** 0 for a root span, 1 for its children, and so on. */
  depth: number;
  /** The name drawn with the tree's lines before it (├─ └─ │), as the terminal shows it. */
  label: string;
}

/** Depth first, children in start order: the rows of a waterfall, in the terminal and in a web page (trace-page.ts). */
export function treeRows(trace: SavedTrace): Row[] {
  const byStart = [...trace.spans].sort((a, b) => a.start - b.start);
  const childrenOf = (id: string) => byStart.filter((s) => s.parentSpanId === id);
  const rows: Row[] = [];
  const walk = (span: SavedSpan, depth: number, indent: string, branch: string) => {
    rows.push({ span, depth, label: indent + branch + span.name });
    const children = childrenOf(span.spanId);
    const below = indent + (branch === '├─ ' ? '│  ' : branch === '└─ ' ? '   ' : '');
    children.forEach((child, i) => walk(child, depth + 1, below, i === children.length - 1 ? '└─ ' : '├─ '));
  };
  for (const root of rootSpans(trace).sort((a, b) => a.start - b.start)) walk(root, 0, '', '');
  return rows;
}

/** What a heading says of a trace, in the terminal and in a web page: the root spans' names, the facts, and how many spans failed. */
export interface TraceFacts { roots: string; facts: string[]; failures: number }

export function traceFacts(trace: SavedTrace): TraceFacts {
  const { start, end } = traceExtent(trace);
  const started = new Date(start / 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
  const containerId = trace.spans.map((s) => s.attributes['container.id']).find((id) => id !== undefined);
  return {
    roots: rootSpans(trace).map((s) => s.name).join(', '),
    facts: [
      `trace ${trace.traceId}`,
      `service ${trace.serviceName}`,
      started,
      formatMicroseconds(Math.max(end - start, 1)),
      `${trace.spans.length} spans`,
      ...(containerId ? [`container ${String(containerId).slice(0, 12)}`] : []),
    ],
    failures: trace.spans.filter((s) => s.error !== undefined).length,
  };
}

function heading(trace: SavedTrace, chalk: ChalkInstance): string {
  const { roots, facts, failures } = traceFacts(trace);
  return [chalk.bold(roots), ...facts, ...(failures ? [chalk.red(`${failures} failed`)] : [])].join(chalk.dim(' · '));
}

/** `key=value` for each attribute a reader wants to see on the span's row; lists as `[a b c]`. */
function attributeTexts(attributes: Record<string, unknown>): string[] {
  return Object.entries(attributes)
    .filter(([key]) => !NOT_SHOWN_PER_SPAN.includes(key))
    .map(([key, value]) => `${key}=${cut(Array.isArray(value) ? `[${value.join(', ')}]` : String(value), MAX_VALUE_WIDTH)}`);
}

function cut(text: string, room: number): string {
  return text.length <= room ? text : text.slice(0, Math.max(0, room - 1)) + '…';
}
