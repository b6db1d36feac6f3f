// The site's Spans page: every span tsrun makes, with the lessons that name it, where in src/ it is made,
// and how long it took in the demo run, linked to its bar on that trace's page.
import fs from 'node:fs';
import path from 'node:path';
import { escapeHtml } from '../escape-html.js';
import { lessonReferences, type Lesson } from './lessons.js';
import { REPO_ROOT } from './regions.js';
import { formatMicroseconds, type SavedTrace } from '../trace/saved.js';
import { treeRows } from '../trace/waterfall.js';

/** Each way src/ names a span: inSpan('tsrun.…'), recordSpan(…), a registry call, a child's step { span: … },
 *  child-spans.ts's name: …, and the stages' table in src/run.ts (`  pull: 'tsrun.pull',`). Attributes named
 *  tsrun.… (tsrun.child.steps) are none of these. */
const SPAN_IN_SOURCE = /(?:inSpan\(|recordSpan\(|this\.call\(|\b(?:span|name): |^\s+[a-z]+: )'(tsrun\.[\w.-]+)'/g;

/** Every span tsrun makes under a fixed name, with where (file:line, maybe more than one). The root span,
 *  `tsrun COMMAND`, is named as the command runs (src/trace/setup.ts), so it is not among them. */
export function spansInSource(dir = path.join(REPO_ROOT, 'src')): Map<string, string[]> {
  const spans = new Map<string, string[]>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const [, name] of line.matchAll(SPAN_IN_SOURCE)) {
        spans.set(name!, [...spans.get(name!) ?? [], `${path.relative(REPO_ROOT, file)}:${i + 1}`]);
      }
    });
  }
  return spans;
}

export interface SpansPageInput {
  spans: Map<string, string[]>;
  lessons: Lesson[];
  pageOf: (lesson: Lesson) => string;
  /** The demo run's trace and its page in the site. */
  demo: SavedTrace;
  demoPage: string;
}

/** The table, in the order the demo run made its spans; the spans it did not make follow, by name. */
export function spansPage({ spans, lessons, pageOf, demo, demoPage }: SpansPageInput): string {
  const inDemo = treeRows(demo).map((row) => row.span).filter((span) => spans.has(span.name));
  const names = [...new Set([...inDemo.map((span) => span.name), ...[...spans.keys()].sort()])];
  const namedBy = lessons.map((lesson) => ({ lesson, names: new Set(lessonReferences(fs.readFileSync(lesson.file, 'utf8')).spans.map((s) => s.name)) }));
  const rows = names.map((name) => {
    const lessonLinks = namedBy.filter((l) => l.names.has(name)).map(({ lesson }) => `<a href="${pageOf(lesson)}">${escapeHtml(lesson.name)}</a>`);
    const demoSpan = inDemo.find((span) => span.name === name);
    // data-label names a column where a phone shows the row as a block (site.ts's style).
    return `<tr id="${escapeHtml(name)}"><td><code>${escapeHtml(name)}</code></td><td data-label="lessons">${lessonLinks.join(', ') || '—'}</td>`
      + `<td data-label="made in">${spans.get(name)!.map(escapeHtml).join('<br>')}</td>`
      + `<td data-label="demo run">${demoSpan ? `<a href="${demoPage}#${escapeHtml(name)}">${escapeHtml(formatMicroseconds(demoSpan.duration))}</a>` : '—'}</td></tr>`;
  });
  return `<h1>Spans</h1>
<p>Each stage of <code>tsrun run</code> runs inside one of these spans, under the command's own, <code>tsrun run</code>
(made in <code>src/trace/setup.ts</code>). Each is named by the lessons listed beside it; its duration is the one it had in
<a href="${demoPage}">the demo run</a>, and leads to its bar there. A dash: no lesson names it, or the demo run did not
make it (it pulled and pushed nothing, found its bridge made, and mounted no volume).</p>
<table class="spans"><thead><tr><th>span</th><th>lessons</th><th>made in</th><th>demo run</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}
