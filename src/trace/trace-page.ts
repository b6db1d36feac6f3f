// A saved trace as a web page: the waterfall in SVG, one bar per span on a time axis, nested under its parent,
// a failed span red and marked "failed"; a click on a span shows what the trace holds of it, its attributes
// first. Plain SVG and a few lines of script, both inline: the page needs no network and no framework.
//
// One renderer, two places: the lessons site's trace pages (src/teach/site.ts) and `tsrun trace show --html`,
// a single file for a classroom without Jaeger. It lives in trace/, beside the terminal's waterfall.ts, because
// the CLI uses it: the site builder's MDX compiler and highlighter stay out of what a command loads.
import { escapeHtml } from '../escape-html.js';
import { formatMicroseconds, type SavedSpan, type SavedTrace } from './saved.js';
import { traceFacts } from './waterfall.js';
import { layoutWaterfall, type WaterfallBar } from './waterfall-layout.js';

// The drawing's rows, in pixels: the axis' labels on top, then per span a line for its name and one for its bar.
const AXIS_HEIGHT = 20;
const ROW_HEIGHT = 32;
const NAME_BASELINE = 13;
const BAR_TOP = 17;
const BAR_HEIGHT = 10;
/** A child's name starts this much to the right of its parent's. */
const INDENT = 14;

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;

/** The traces of one file as figures, one each. A span's row has the span's name as its id (the first of
 *  that name on the page), so a lesson can link to `trace-demo-run.html#tsrun.network`. */
export function traceFigures(traces: SavedTrace[]): string {
  const named = new Set<string>();
  return traces.map((trace) => traceFigure(trace, named)).join('\n');
}

function traceFigure(trace: SavedTrace, named: Set<string>): string {
  const { bars, ticks } = layoutWaterfall(trace);
  const { roots, facts, failures } = traceFacts(trace);
  const height = AXIS_HEIGHT + bars.length * ROW_HEIGHT;
  const axis = ticks.map(({ x, label }) => {
    const anchor = x < 0.05 ? 'start' : x > 0.9 ? 'end' : 'middle'; // the first and last labels stay inside
    return `<g class="tick"><line x1="${percent(x)}" x2="${percent(x)}" y1="${AXIS_HEIGHT - 4}" y2="${height}"/>`
      + `<text x="${percent(x)}" y="12" text-anchor="${anchor}">${escapeHtml(label)}</text></g>`;
  });
  const rows = bars.map((bar, i) => spanRow(bar, AXIS_HEIGHT + i * ROW_HEIGHT, named));
  const byId = new Map(trace.spans.map((span) => [span.spanId, span]));
  return `<figure class="trace-view">
<figcaption><strong>${escapeHtml(roots)}</strong> · ${facts.map(escapeHtml).join(' · ')}${failures ? ` · <span class="failed">${failures} failed</span>` : ''}</figcaption>
<svg class="waterfall" width="100%" height="${height}" aria-label="${escapeHtml(`${roots}: ${bars.length} spans on a time axis`)}">
<g class="axis">${axis.join('')}</g>
${rows.join('\n')}
</svg>
<div class="details">
<p data-span="">Click a bar (or press Enter on one) to see its span: when it ran, its status and its attributes.</p>
${bars.map((bar) => spanDetails(bar, byId)).join('\n')}
</div>
</figure>`;
}

function spanRow(bar: WaterfallBar, top: number, named: Set<string>): string {
  const { span, depth, x, width, duration, failed } = bar;
  const id = named.has(span.name) ? '' : ` id="${escapeHtml(span.name)}"`;
  named.add(span.name);
  return `<g class="span${failed ? ' failed' : ''}"${id} data-span="${escapeHtml(span.spanId)}" tabindex="0" role="button">`
    + `<title>${escapeHtml(`${span.name}: ${duration}${failed ? ', failed' : ''}`)}</title>`
    + `<rect class="row" x="0" y="${top}" width="100%" height="${ROW_HEIGHT}"/>`
    + `<text class="name" x="${4 + depth * INDENT}" y="${top + NAME_BASELINE}">${escapeHtml(span.name)}${failed ? '<tspan class="status"> failed</tspan>' : ''}</text>`
    + `<text class="duration" x="100%" y="${top + NAME_BASELINE}" text-anchor="end">${escapeHtml(duration)}</text>`
    + `<rect class="bar" x="${percent(x)}" y="${top + BAR_TOP}" width="${percent(width)}" height="${BAR_HEIGHT}" rx="2"/></g>`;
}

/** What the trace holds of one span, hidden until its bar is clicked. */
function spanDetails({ span, offset, duration, failed }: WaterfallBar, byId: Map<string, SavedSpan>): string {
  const parent = span.parentSpanId === undefined ? 'a root span'
    : `under ${byId.get(span.parentSpanId)?.name ?? `span ${span.parentSpanId}, which is not in this trace`}`;
  const attributes = Object.entries(span.attributes);
  return `<section data-span="${escapeHtml(span.spanId)}" hidden>
<h2>${escapeHtml(span.name)}${failed ? ' <span class="failed">failed</span>' : ''}</h2>
<p>Started ${escapeHtml(formatMicroseconds(offset))} into the trace and took ${escapeHtml(duration)}; span ${escapeHtml(span.spanId)}, ${escapeHtml(parent)}.</p>
${failed ? `<p class="failed">${span.error ? escapeHtml(span.error) : 'Failed, with no message.'}</p>\n` : ''}${attributes.length
    ? `<table><tbody>${attributes.map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${valueHtml(value)}</td></tr>`).join('')}</tbody></table>`
    : '<p>No attributes.</p>'}
</section>`;
}

/** A list (the child's steps, an image's tags) one item a line; anything else as its text. */
function valueHtml(value: unknown): string {
  if (!Array.isArray(value)) return escapeHtml(String(value));
  return value.length ? `<ol>${value.map((item) => `<li>${escapeHtml(String(item))}</li>`).join('')}</ol>` : '<i>an empty list</i>';
}

/** The figures' style; a page that shows them puts it in its head. */
export const TRACE_PAGE_STYLE = `
.trace-view { margin: 1.5rem 0; }
.trace-view figcaption { font-size: 14px; color: #57606a; overflow-wrap: anywhere; margin-bottom: .4rem; }
.trace-view figcaption strong { color: #1f2328; }
.trace-view .failed { color: #cf222e; }
svg.waterfall { display: block; font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg.waterfall .tick line { stroke: #d8dee4; }
svg.waterfall .tick text, svg.waterfall .duration { fill: #57606a; }
svg.waterfall .span { cursor: pointer; outline: none; }
svg.waterfall .row { fill: transparent; }
svg.waterfall .span:hover .row, svg.waterfall .span:focus-visible .row { fill: #f6f8fa; }
svg.waterfall .span.selected .row { fill: #ddf4ff; }
svg.waterfall .bar { fill: #218bff; }
svg.waterfall .failed .bar { fill: #cf222e; }
svg.waterfall .failed .name { fill: #cf222e; font-weight: bold; }
.trace-view .details { position: sticky; bottom: 0; max-height: 45vh; overflow-y: auto; background: #fff;
  border-top: 2px solid #d0d7de; padding: .2rem 0; overflow-wrap: anywhere; }
.trace-view .details h2 { font-size: 1.1rem; margin: .3rem 0; }
.trace-view .details p { margin: .3rem 0; }
.trace-view .details table { width: 100%; border-collapse: collapse; font-size: 14px; }
.trace-view .details th, .trace-view .details td { border: 1px solid #d0d7de; padding: .2rem .4rem; text-align: left; vertical-align: top; }
.trace-view .details th { width: 35%; font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.trace-view .details ol { margin: 0; padding-left: 1.6rem; }
@media (max-width: 36rem) { /* a phone: each attribute's name above its value, each the whole width */
  .trace-view .details tr, .trace-view .details th, .trace-view .details td { display: block; width: auto; }
  .trace-view .details tr { border: 1px solid #d0d7de; } .trace-view .details th, .trace-view .details td { border: 0; }
}
`;

/** Runs in the browser: the page includes this function's source. A click on a span's row (or Enter or
 *  Space on it) selects it and shows its details; an address ending in #NAME (a lesson's link) selects that
 *  span when the page opens. */
function selectSpans(): void {
  const select = (row: SVGGElement) => {
    const figure = row.closest('.trace-view')!;
    figure.querySelector('.span.selected')?.classList.remove('selected');
    row.classList.add('selected');
    // The hint's data-span is empty: it hides too.
    for (const part of figure.querySelectorAll<HTMLElement>('.details > [data-span]')) part.hidden = part.dataset.span !== row.dataset.span;
  };
  const rowOf = (target: EventTarget | null) => (target instanceof Element ? target.closest<SVGGElement>('.trace-view .span') : null);
  document.addEventListener('click', (event) => {
    const row = rowOf(event.target);
    if (row) select(row);
  });
  document.addEventListener('keydown', (event) => {
    const row = rowOf(event.target);
    if (row && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault(); // Space would scroll the page
      select(row);
    }
  });
  const linked = rowOf(document.getElementById(decodeURIComponent(location.hash.slice(1))));
  if (linked) select(linked);
}

export const TRACE_PAGE_SCRIPT = `(${selectSpans.toString()})();`;

/** `tsrun trace show --html`: one page that holds everything, its style and script inline. */
export function traceDocument(title: string, traces: SavedTrace[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 16px/1.55 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
${TRACE_PAGE_STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${traceFigures(traces)}
</main>
<script>${TRACE_PAGE_SCRIPT}</script>
</body>
</html>
`;
}
