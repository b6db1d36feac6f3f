// `npm run lessons:build [-- [--traces DIR]... [OUT_DIR]]`: the lessons as a static site (default dist/lessons-site),
// with a page for each trace in traces/examples/ and in each DIR.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSite } from './site.js';
import { LESSONS_DIR } from './terminal-lesson.js';
import { REPO_ROOT } from './regions.js';

const { values, positionals } = parseArgs({ options: { traces: { type: 'string', multiple: true } }, allowPositionals: true });
const outDir = path.resolve(positionals[0] ?? path.join(REPO_ROOT, 'dist', 'lessons-site'));
const { pages } = await buildSite(LESSONS_DIR, outDir, { traceDirs: (values.traces ?? []).map((dir) => path.resolve(dir)) });
process.stdout.write(`wrote ${pages.length} pages to ${outDir}\n`);
