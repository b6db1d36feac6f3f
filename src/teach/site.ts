// `npm run lessons:build`: every lesson in lessons/ becomes a static HTML page,
// compiled by @mdx-js/mdx. <Region> includes the real code, highlighted, with
// the file and lines it came from; lessons link to each other. Each example
// trace (traces/examples/, and those of `--traces DIR`) gets a page with its
// waterfall (src/trace/trace-page.ts, which `tsrun trace show --html` writes
// too). A span name like `tsrun.exec` links to that span in the demo run's
// page, or, when the demo run has no such span, to the Spans page.
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '@mdx-js/mdx';
import hljs from 'highlight.js';
import { listLessons, type Lesson } from './lessons.js';
import { REPO_ROOT, readRegion } from './regions.js';
import { Fragment, jsx, jsxs, raw, renderChildren, type Html } from './html.js';
import { escapeHtml } from '../escape-html.js';
import { spansInSource, spansPage } from './spans-page.js';
import { formatMicroseconds, listingOf, readTraceFile, traceFilesIn, type SavedTrace } from '../trace/saved.js';
import { TRACE_PAGE_SCRIPT, TRACE_PAGE_STYLE, traceFigures } from '../trace/trace-page.js';

export const EXAMPLE_TRACES = path.join(REPO_ROOT, 'traces', 'examples');
/** The run the Spans page takes its durations from, and lessons' span names link into. */
const DEMO_TRACE = path.join(EXAMPLE_TRACES, 'demo-run.otlp.jsonl');
const LANGUAGES: Record<string, string> = { '.ts': 'typescript', '.c': 'c', '.cc': 'cpp', '.h': 'cpp', '.sh': 'bash', '.json': 'json' };

export interface BuiltSite {
  pages: string[];
}

export interface SiteOptions {
  /** More directories of traces to give pages, after traces/examples/. */
  traceDirs?: string[];
}

export async function buildSite(lessonsDir: string, outDir: string, { traceDirs = [] }: SiteOptions = {}): Promise<BuiltSite> {
  const lessons = listLessons(lessonsDir);
  const traces = tracePages([EXAMPLE_TRACES, ...traceDirs]);
  const demo = traces.find((t) => t.file === DEMO_TRACE)!;
  const spans = spansInSource();
  // A span's name leads to its bar in the demo run, where a click shows what it recorded; else to its row of the
  // Spans page. Undefined: not a span tsrun makes (tsrun.child.steps is an attribute).
  const spanHref = (name: string) => !spans.has(name) ? undefined
    : demo.traces[0]!.spans.some((span) => span.name === name) ? `${demo.page}#${name}` : `spans.html#${name}`;
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const pages: string[] = [];
  const write = (name: string, title: string, body: string, withTraces = false) => {
    fs.writeFileSync(path.join(outDir, name), page(title, body, lessons, withTraces));
    pages.push(name);
  };

  write('index.html', 'tsrun lessons', `<h1>tsrun lessons</h1>\n<ol start="0">${lessons
    .map((lesson) => `<li><a href="${pageName(lesson)}">${escapeHtml(lesson.title)}</a></li>`).join('\n')}</ol>
<p>Every span a lesson names is listed on <a href="spans.html">the spans page</a>.</p>
<h2>Traces</h2>
<p>Runs of tsrun, drawn as waterfalls: click a span to see what it recorded.</p>
<ul>${traces.map(({ file, page: name, traces: inFile }) => inFile.map((trace) => {
    const { root, duration, spans: count, status } = listingOf(file, trace);
    return `<li><a href="${name}">${escapeHtml(path.basename(file))}</a>: <code>${escapeHtml(root)}</code>, ${formatMicroseconds(duration)}, ${count} spans, ${escapeHtml(status)}</li>`;
  }).join('\n')).join('\n')}</ul>`);
  for (const [i, lesson] of lessons.entries()) {
    const body = await renderLesson(lesson, lessons, spanHref);
    const previous = lessons[i - 1];
    const next = lessons[i + 1];
    const nav = `<nav class="pager">${previous ? `<a href="${pageName(previous)}">← ${escapeHtml(previous.title)}</a>` : ''}`
      + `${next ? `<a href="${pageName(next)}">${escapeHtml(next.title)} →</a>` : ''}</nav>`;
    write(pageName(lesson), lesson.title, body + nav);
  }
  write('spans.html', 'Spans', spansPage({ spans, lessons, pageOf: pageName, demo: demo.traces[0]!, demoPage: demo.page }));
  for (const { file, page: name, traces: inFile } of traces) {
    write(name, `Trace ${path.basename(file)}`, `<h1>Trace ${escapeHtml(path.basename(file))}</h1>
<p>Every span of this run is a bar on its time axis, under its parent; a failed one is red. Click a bar to see what its
span recorded. What each span is, where tsrun makes it and which lesson explains it: <a href="spans.html">the Spans page</a>.</p>
${traceFigures(inFile)}`, true);
  }
  fs.copyFileSync(path.join(REPO_ROOT, 'node_modules/highlight.js/styles/github.css'), path.join(outDir, 'highlight.css'));
  return { pages };
}

const pageName = (lesson: Lesson) => `${lesson.name}.html`;

interface TracePage { file: string; page: string; traces: SavedTrace[] }

/** A page for each trace file in the directories, named after the file: trace-demo-run.html. */
function tracePages(dirs: string[]): TracePage[] {
  const taken = new Set<string>();
  return dirs.flatMap(traceFilesIn).map((file) => {
    const stem = path.basename(file).replace(/\.(otlp\.jsonl|jaeger\.json)$/, '');
    let page = `trace-${stem}.html`;
    for (let n = 2; taken.has(page); n++) page = `trace-${stem}-${n}.html`; // the same name in two directories
    taken.add(page);
    return { file, page, traces: readTraceFile(file) };
  });
}

async function renderLesson(lesson: Lesson, lessons: Lesson[], spanHref: (name: string) => string | undefined): Promise<string> {
  const source = fs.readFileSync(lesson.file, 'utf8');
  const { default: Content } = await evaluate(source, { Fragment, jsx, jsxs, baseUrl: import.meta.url } as never);
  const components = {
    // #region region-component
    Region: ({ file, name }: { file: string; name: string }): Html => {
      const region = readRegion(file, name);
      const language = LANGUAGES[path.extname(file)] ?? 'plaintext';
      return raw(`<figure class="region"><figcaption>${escapeHtml(file)}:${region.startLine}–${region.endLine} <span>(region ${escapeHtml(name)})</span></figcaption>`
        + `<pre><code class="hljs">${hljs.highlight(region.code, { language }).value}</code></pre></figure>`);
    },
    // #endregion
    code: ({ className, children }: { className?: string; children?: unknown }): Html => {
      const text = renderChildren(children as never);
      const language = /language-(\w+)/.exec(className ?? '')?.[1];
      if (language && hljs.getLanguage(language)) {
        return raw(`<code class="hljs">${hljs.highlight(String(children), { language }).value}</code>`);
      }
      const span = spanHref(String(children));
      if (span) return raw(`<a class="span" href="${escapeHtml(span)}"><code>${text}</code></a>`);
      return raw(`<code>${text}</code>`);
    },
    a: ({ href, children }: { href?: string; children?: unknown }): Html => {
      // Lessons link to each other by file name (03-rwlayer.mdx); pages are named rwlayer.html.
      const target = lessons.find((l) => href === path.basename(l.file) || href === `./${path.basename(l.file)}`);
      return raw(`<a href="${escapeHtml(target ? pageName(target) : href ?? '#')}">${renderChildren(children as never)}</a>`);
    },
  };
  return (Content as (props: unknown) => Html)({ components }).html;
}

function page(title: string, body: string, lessons: Lesson[], withTraces: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="highlight.css">
<style>
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
header { display: flex; flex-wrap: wrap; gap: 0 .8rem; } /* its links wrap, whatever the width */
pre { background: #f6f8fa; padding: .8rem; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre code.hljs { padding: 0; background: none; }
code { overflow-wrap: anywhere; } /* a long path in a sentence breaks rather than push the page sideways */
figure.region { margin: 1rem 0; }
figcaption { font: 13px monospace; color: #57606a; }
figcaption span { color: #8c959f; }
nav.pager { display: flex; justify-content: space-between; margin-top: 2rem; border-top: 1px solid #d0d7de; padding-top: 1rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; }
table.spans td { vertical-align: top; }
@media (max-width: 36rem) { /* a phone: each span a block, its columns one under the other, each named */
  table.spans thead { display: none; }
  table.spans tr, table.spans td { display: block; }
  table.spans tr { border: 1px solid #d0d7de; margin-bottom: .5rem; } table.spans td { border: 0; padding: .1rem .5rem; }
  table.spans td[data-label]::before { content: attr(data-label) ": "; color: #57606a; }
}
${withTraces ? TRACE_PAGE_STYLE : ''}</style>
</head>
<body>
<header><a href="index.html">tsrun lessons</a>${lessons.map((l) => `<a href="${pageName(l)}">${escapeHtml(l.name)}</a>`).join('')}</header>
<main>
${body}
</main>
${withTraces ? `<script>${TRACE_PAGE_SCRIPT}</script>\n` : ''}</body>
</html>
`;
}
