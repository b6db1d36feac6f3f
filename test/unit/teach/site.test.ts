// The lessons site's trace pages and Spans page, read as built HTML (test/integration/trace-viewer.test.ts opens
// them in Chromium): a page per trace, every span tsrun makes listed with its lessons, its source and its time in
// the demo run, and the lessons' span names linked to the span in the demo run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite } from '../../../src/teach/site.js';
import { spansInSource } from '../../../src/teach/spans-page.js';
import { LESSONS_DIR } from '../../../src/teach/terminal-lesson.js';
import { REPO_ROOT } from '../../../src/teach/regions.js';
import { formatMicroseconds, readTraceFile } from '../../../src/trace/saved.js';
import { treeRows } from '../../../src/trace/waterfall.js';

const EXAMPLES = path.join(REPO_ROOT, 'traces', 'examples');
const demo = readTraceFile(path.join(EXAMPLES, 'demo-run.otlp.jsonl'))[0]!;

describe('the site\'s traces', () => {
  let dir: string;
  let pages: string[];
  const read = (name: string) => fs.readFileSync(path.join(dir, 'site', name), 'utf8');
  /** The row of the Spans page for `name`, its cells' HTML. */
  const spansRow = (name: string) => [...new RegExp(`<tr id="${name.replace(/\./g, '\\.')}">(.*?)</tr>`).exec(read('spans.html'))![1]!
    .matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-site-traces-'));
    // A classroom's own traces: one named like an example, one in a subdirectory, and a file that is no trace.
    fs.mkdirSync(path.join(dir, 'class', 'monday'), { recursive: true });
    fs.copyFileSync(path.join(EXAMPLES, 'demo-run.jaeger.json'), path.join(dir, 'class', 'demo-run.jaeger.json'));
    fs.copyFileSync(path.join(EXAMPLES, 'command-not-found.otlp.jsonl'), path.join(dir, 'class', 'monday', 'lab.otlp.jsonl'));
    fs.writeFileSync(path.join(dir, 'class', 'notes.txt'), 'not a trace');
    pages = (await buildSite(LESSONS_DIR, path.join(dir, 'site'), { traceDirs: [path.join(dir, 'class')] })).pages;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives each trace file a page, the examples\' and those of --traces, a second of one name its own', () => {
    expect(pages.filter((name) => name.startsWith('trace-'))).toEqual(
      ['trace-command-not-found.html', 'trace-demo-run.html', 'trace-demo-run-2.html', 'trace-lab.html']);
    expect(read('trace-demo-run-2.html').match(/<rect class="bar"/g)).toHaveLength(demo.spans.length);
    expect(read('trace-lab.html')).toContain('<h1>Trace lab.otlp.jsonl</h1>');
    expect(read('index.html')).toContain('<li><a href="trace-lab.html">lab.otlp.jsonl</a>: <code>tsrun run</code>, 75.5 ms, 31 spans, error: exec: &quot;no-such-command&quot;');
  });

  it('finds every span tsrun makes in src/, and no attribute', () => {
    const spans = spansInSource();
    const traced = new Set(['demo-run', 'command-not-found'].flatMap((name) => readTraceFile(path.join(EXAMPLES, `${name}.otlp.jsonl`))[0]!.spans)
      .map((span) => span.name).filter((name) => name.startsWith('tsrun.')));
    expect([...traced].filter((name) => !spans.has(name))).toEqual([]);
    for (const name of ['tsrun.registry.blob', 'tsrun.pull.layer', 'tsrun.network.nat', 'tsrun.child.mounts']) expect(spans.has(name), name).toBe(true);
    for (const attribute of ['tsrun.child.steps', 'tsrun.network.mode', 'tsrun.blob.digest', 'tsrun.auto_remove']) expect(spans.has(attribute), attribute).toBe(false);
    const [file, line] = spans.get('tsrun.network.veth')![0]!.split(':');
    expect(fs.readFileSync(path.join(REPO_ROOT, file!), 'utf8').split('\n')[Number(line) - 1]).toContain("inSpan('tsrun.network.veth'");
  });

  it('lists on the Spans page every span with the lessons that name it, where it is made and its time in the demo run', () => {
    const names = [...read('spans.html').matchAll(/<tr id="([^"]+)">/g)].map((m) => m[1]);
    expect(new Set(names)).toEqual(new Set(spansInSource().keys()));
    const demoOrder = treeRows(demo).map((row) => row.span.name).filter((name) => name !== 'tsrun run');
    expect(names.slice(0, demoOrder.length)).toEqual(demoOrder); // first the order of the demo run: tsrun.pull, tsrun.create, …
    const network = demo.spans.find((span) => span.name === 'tsrun.network')!;
    expect(spansRow('tsrun.network')).toEqual([
      '<code>tsrun.network</code>',
      '<a href="introduction.html">introduction</a>, <a href="network.html">network</a>, <a href="tracing.html">tracing</a>, <a href="daemon.html">daemon</a>',
      spansInSource().get('tsrun.network')!.join('<br>'),
      `<a href="trace-demo-run.html#tsrun.network">${formatMicroseconds(network.duration)}</a>`,
    ]);
    expect(spansRow('tsrun.registry.blob').slice(1)).toEqual(['<a href="tracing.html">tracing</a>', 'src/registry/client.ts:87', '—']);
    expect(spansRow('tsrun.registry.ping')[1]).toBe('—');
  });

  it('links a span a lesson names to its bar in the demo run, or to the Spans page when the demo run has none', () => {
    expect(read('network.html')).toContain('<a class="span" href="trace-demo-run.html#tsrun.network"><code>tsrun.network</code></a>');
    const tracing = read('tracing.html');
    expect(tracing).toContain('<a class="span" href="trace-demo-run.html#tsrun.child.pseudo-filesystems"><code>tsrun.child.pseudo-filesystems</code></a>');
    expect(tracing).toContain('<a class="span" href="spans.html#tsrun.registry.blob"><code>tsrun.registry.blob</code></a>');
    expect(tracing).toContain('<code>tsrun.child.steps</code>'); // an attribute: no link
    expect(tracing).not.toContain('#tsrun.child.steps');
    expect(read('trace-demo-run.html')).toContain('<g class="span" id="tsrun.network"');
  });
});
