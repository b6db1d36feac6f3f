// `npm run lessons:build`: every lesson in lessons/ becomes a static HTML page,
// compiled by @mdx-js/mdx. <Region> includes the real code, highlighted, with
// the file and lines it came from; a span name like `tsrun.exec` links to the
// page that says where in src/ that span is made; lessons link to each other.
import fs from 'node:fs';
import path from 'node:path';
import { evaluate } from '@mdx-js/mdx';
import hljs from 'highlight.js';
import { listLessons, type Lesson } from './lessons.js';
import { REPO_ROOT, readRegion } from './regions.js';
import { Fragment, escapeHtml, jsx, jsxs, raw, renderChildren, type Html } from './html.js';

const SPAN_NAME = /^tsrun\.[a-z]+$/;
const LANGUAGES: Record<string, string> = { '.ts': 'typescript', '.c': 'c', '.cc': 'cpp', '.h': 'cpp', '.sh': 'bash', '.json': 'json' };

export interface BuiltSite {
  pages: string[];
}

export async function buildSite(lessonsDir: string, outDir: string): Promise<BuiltSite> {
  const lessons = listLessons(lessonsDir);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const pages: string[] = [];
  const write = (name: string, title: string, body: string) => {
    fs.writeFileSync(path.join(outDir, name), page(title, body, lessons));
    pages.push(name);
  };

  write('index.html', 'tsrun lessons', `<h1>tsrun lessons</h1>\n<ol start="0">${lessons
    .map((lesson) => `<li><a href="${pageName(lesson)}">${escapeHtml(lesson.title)}</a></li>`).join('\n')}</ol>
<p>Every span a lesson names is listed on <a href="spans.html">the spans page</a>.</p>`);
  for (const [i, lesson] of lessons.entries()) {
    const body = await renderLesson(lesson, lessons);
    const previous = lessons[i - 1];
    const next = lessons[i + 1];
    const nav = `<nav class="pager">${previous ? `<a href="${pageName(previous)}">← ${escapeHtml(previous.title)}</a>` : ''}`
      + `${next ? `<a href="${pageName(next)}">${escapeHtml(next.title)} →</a>` : ''}</nav>`;
    write(pageName(lesson), lesson.title, body + nav);
  }
  write('spans.html', 'Spans', spansPage());
  fs.copyFileSync(path.join(REPO_ROOT, 'node_modules/highlight.js/styles/github.css'), path.join(outDir, 'highlight.css'));
  return { pages };
}

const pageName = (lesson: Lesson) => `${lesson.name}.html`;

async function renderLesson(lesson: Lesson, lessons: Lesson[]): Promise<string> {
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
      if (SPAN_NAME.test(String(children))) return raw(`<a class="span" href="spans.html#${text}"><code>${text}</code></a>`);
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

/** Every span tsrun opens by name (`inSpan('tsrun.…'`, and the stages' in src/run.ts's SPANS), with where. */
function spansPage(): string {
  const rows: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        fs.readFileSync(full, 'utf8').split('\n').forEach((line, i) => {
          for (const match of line.matchAll(/(?:inSpan\(|^\s+[a-z]+: )'(tsrun\.[a-z]+)'/g)) {
            rows.push(`<tr id="${match[1]}"><td><code>${match[1]}</code></td><td>${escapeHtml(path.relative(REPO_ROOT, full))}:${i + 1}</td></tr>`);
          }
        });
      }
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  return `<h1>Spans</h1>\n<p>Each stage of <code>tsrun run</code> runs inside one of these spans. Trace a run to see them with their timings.</p>
<table><thead><tr><th>span</th><th>made in</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function page(title: string, body: string, lessons: Lesson[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="highlight.css">
<style>
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
header a { margin-right: .8rem; }
pre { background: #f6f8fa; padding: .8rem; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
pre code.hljs { padding: 0; background: none; }
figure.region { margin: 1rem 0; }
figcaption { font: 13px monospace; color: #57606a; }
figcaption span { color: #8c959f; }
nav.pager { display: flex; justify-content: space-between; margin-top: 2rem; border-top: 1px solid #d0d7de; padding-top: 1rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; }
</style>
</head>
<body>
<header><a href="index.html">tsrun lessons</a>${lessons.map((l) => `<a href="${pageName(l)}">${escapeHtml(l.name)}</a>`).join('')}</header>
<main>
${body}
</main>
</body>
</html>
`;
}
