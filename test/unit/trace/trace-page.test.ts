// The waterfall as a web page (src/trace/trace-page.ts), without a browser: where each bar goes, what the
// page says of each span, and that it says nothing the trace does not hold. test/integration/trace-viewer.test.ts
// opens the same pages in Chromium.
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../src/escape-html.js';
import { formatMicroseconds, type SavedSpan, type SavedTrace } from '../../../src/trace/saved.js';
import { traceDocument, traceFigures } from '../../../src/trace/trace-page.js';
import { MIN_BAR_WIDTH, axisTicks, layoutWaterfall } from '../../../src/trace/waterfall-layout.js';

const T0 = 1_795_000_000_000_000; // microseconds since the epoch

const span = (spanId: string, name: string, start: number, duration: number, parentSpanId?: string, extra: Partial<SavedSpan> = {}): SavedSpan => ({
  spanId, name, start: T0 + start, duration, attributes: {}, ...(parentSpanId ? { parentSpanId } : {}), ...extra,
});

// A run of 1000 µs, its spans out of order as exporters write them; a step of no time at its very end.
const run: SavedTrace = {
  traceId: 'a'.repeat(32),
  serviceName: 'tsrun',
  spans: [
    span('3', 'tsrun.exec', 500, 500, '1', { attributes: { 'process.pid': 42 }, error: 'exec: "x": not found' }),
    span('4', 'tsrun.child.execve', 500, 100, '3', { attributes: { 'tsrun.child.steps': ['execve x', 'setsid'] }, error: '' }),
    span('2', 'tsrun.pull', 0, 250, '1', { attributes: { 'container.image.name': 'tsrun-demo', 'tsrun.network.ports': [] } }),
    span('1', 'tsrun run', 0, 1000, undefined, { attributes: { 'process.command_args': ['tsrun', 'run', '-e', 'DB_PASSWORD=<redacted>', 'tsrun-demo'] } }),
    span('5', 'tsrun.exec.wait', 1000, 0, '3'),
  ],
};

describe('layoutWaterfall', () => {
  it('places each span: depth first, nested under its parent, its bar a fraction of the trace', () => {
    const { bars, total } = layoutWaterfall(run);
    expect(total).toBe(1000);
    expect(bars.map(({ span: s, depth, x, width, offset, duration, failed }) => [s.name, depth, x, width, offset, duration, failed])).toEqual([
      ['tsrun run', 0, 0, 1, 0, '1.00 ms', false],
      ['tsrun.pull', 1, 0, 0.25, 0, '250 µs', false],
      ['tsrun.exec', 1, 0.5, 0.5, 500, '500 µs', true],
      ['tsrun.child.execve', 2, 0.5, 0.1, 500, '100 µs', true], // failed with no message is failed still
      // No time, at the very end: the narrowest bar, kept inside the axis.
      ['tsrun.exec.wait', 2, 1 - MIN_BAR_WIDTH, MIN_BAR_WIDTH, 1000, '0 µs', false],
    ]);
  });

  it('keeps every span and its attributes, as the trace holds them', () => {
    const { bars } = layoutWaterfall(run);
    expect(bars.map((bar) => bar.span).sort((a, b) => a.spanId.localeCompare(b.spanId))).toEqual([...run.spans].sort((a, b) => a.spanId.localeCompare(b.spanId)));
  });

  it('labels the time axis at round times, in one unit, never more than six ticks', () => {
    expect(axisTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000].map((us) => ({ x: us / 1000, label: us ? `${us} µs` : '0' })));
    expect(axisTicks(84_400).map((t) => t.label)).toEqual(['0', '20 ms', '40 ms', '60 ms', '80 ms']);
    expect(axisTicks(84_400)[1]!.x).toBeCloseTo(20_000 / 84_400);
    expect(axisTicks(3_400_000).map((t) => t.label)).toEqual(['0', '1 s', '2 s', '3 s']);
    expect(axisTicks(1).map((t) => t.label)).toEqual(['0', '1 µs']);
  });
});

/** The part of the page about the span whose data-span is `id`: its row in the SVG, or its details. */
const rowOf = (html: string, id: string) => new RegExp(`<g class="span[^"]*"[^>]*data-span="${id}"[^>]*>.*?</g>`).exec(html)?.[0] ?? '';
const detailsOf = (html: string, id: string) => new RegExp(`<section data-span="${id}" hidden>[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';

describe('traceFigures', () => {
  const html = traceFigures([run]);

  it('draws one bar per span where the layout puts it, a failed span marked, a child indented', () => {
    expect(html.match(/<rect class="bar"/g)).toHaveLength(run.spans.length);
    expect(rowOf(html, '3')).toMatch(/^<g class="span failed" id="tsrun.exec" data-span="3" tabindex="0" role="button">/);
    expect(rowOf(html, '3')).toContain('<rect class="bar" x="50.00%" y="101" width="50.00%" height="10" rx="2"/>');
    expect(rowOf(html, '3')).toContain('tsrun.exec<tspan class="status"> failed</tspan>');
    expect(rowOf(html, '2')).toMatch(/^<g class="span" id="tsrun.pull"/);
    expect(rowOf(html, '2')).toContain('<rect class="bar" x="0.00%" y="69" width="25.00%"');
    expect(rowOf(html, '5')).toContain(`x="${((1 - MIN_BAR_WIDTH) * 100).toFixed(2)}%"`);
    const nameX = (id: string) => Number(/<text class="name" x="(\d+)"/.exec(rowOf(html, id))![1]);
    expect([nameX('1'), nameX('2'), nameX('4')]).toEqual([4, 18, 32]);
    expect(html.match(/class="span failed"/g)).toHaveLength(2);
    expect(html).toContain('<text x="40.00%" y="12" text-anchor="middle">400 µs</text>');
  });

  it('holds each span\'s details, hidden until its bar is clicked: times, status, every attribute', () => {
    expect(detailsOf(html, '3')).toContain('<h2>tsrun.exec <span class="failed">failed</span></h2>');
    expect(detailsOf(html, '3')).toContain('Started 500 µs into the trace and took 500 µs; span 3, under tsrun run.');
    expect(detailsOf(html, '3')).toContain(`<p class="failed">${escapeHtml('exec: "x": not found')}</p>`);
    expect(detailsOf(html, '3')).toContain('<tr><th>process.pid</th><td>42</td></tr>');
    expect(detailsOf(html, '4')).toContain('<p class="failed">Failed, with no message.</p>');
    expect(detailsOf(html, '4')).toContain('<ol><li>execve x</li><li>setsid</li></ol>');
    expect(detailsOf(html, '2')).toContain('<tr><th>tsrun.network.ports</th><td><i>an empty list</i></td></tr>');
    expect(detailsOf(html, '1')).toContain('a root span');
    expect(detailsOf(html, '5')).toContain('<p>No attributes.</p>');
    for (const s of run.spans) {
      for (const [key, value] of Object.entries(s.attributes)) {
        expect(detailsOf(html, s.spanId)).toContain(`<th>${escapeHtml(key)}</th>`);
        for (const item of [value].flat()) expect(detailsOf(html, s.spanId)).toContain(escapeHtml(String(item)));
      }
    }
  });

  it('names a span\'s row after it once per page, for links from the lessons', () => {
    const twice = traceFigures([run, { ...run, traceId: 'b'.repeat(32) }]);
    expect(twice.match(/id="tsrun.exec"/g)).toHaveLength(1);
    expect(twice.match(/<rect class="bar"/g)).toHaveLength(2 * run.spans.length);
  });

  it('says where a parent that is not in the file is (a caller\'s, from TRACEPARENT)', () => {
    const continued = traceFigures([{ ...run, spans: run.spans.map((s) => (s.spanId === '1' ? { ...s, parentSpanId: 'f00dcafef00dcafe' } : s)) }]);
    expect(detailsOf(continued, '1')).toContain('under span f00dcafef00dcafe, which is not in this trace.');
  });

  it('shows what a span holds as text, never as markup', () => {
    const hostile = traceFigures([{ ...run, spans: [span('1', '<img src=x onerror=alert(1)>', 0, 10, undefined, {
      attributes: { '<b>key</b>': '</script><script>alert(1)</script>', list: ['<i>x</i>'] }, error: '<svg onload=alert(2)>',
    })] }]);
    expect(hostile).not.toMatch(/<img|<script|<b>|<i>x|<svg onload/);
    expect(hostile).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(hostile).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('what the page shows', () => {
  afterEach(() => { delete process.env.TSRUN_TEST_SECRET; });

  it('is only what the trace holds: nothing of the machine or the environment that draws it', () => {
    process.env.TSRUN_TEST_SECRET = 'hunter2-9f8e7d';
    const page = traceDocument('run.otlp.jsonl', [run]);
    const text = page.replace(/<style>[\s\S]*?<\/style>|<script>[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ')
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    // What the trace holds, and what the page makes of it (durations, offsets, the axis, the start as a date)…
    const fromTrace = [
      ...run.spans.flatMap((s) => [s.name, s.spanId, s.error ?? '', ...Object.keys(s.attributes), ...Object.values(s.attributes).flat().map(String),
        formatMicroseconds(s.duration), formatMicroseconds(s.start - T0)]),
      ...axisTicks(1000).map((tick) => tick.label), run.traceId, run.serviceName, '2026-11-18 11:06:40.000 UTC', 'run.otlp.jsonl',
    ].filter(Boolean).sort((a, b) => b.length - a.length);
    const rest = fromTrace.reduce((left, piece) => left.replaceAll(piece, ' '), text);
    // …and the page's own words: nothing else.
    const ownWords = new Set(('Click a bar or press Enter on one to see its span when it ran its status and its attributes '
      + 'Started into the trace and took span under a root failed Failed with no message No an empty list service spans on time axis').split(' '));
    expect(rest.split(/[^A-Za-z0-9-]+/).filter((word) => word && !ownWords.has(word))).toEqual([]);
    for (const secret of ['hunter2-9f8e7d', os.hostname(), process.cwd()]) expect(page).not.toContain(secret);
  });
});
