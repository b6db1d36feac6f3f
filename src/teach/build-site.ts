// `npm run lessons:build [-- OUT_DIR]`: the lessons as a static site (default dist/lessons-site).
import path from 'node:path';
import { buildSite } from './site.js';
import { LESSONS_DIR } from './terminal-lesson.js';
import { REPO_ROOT } from './regions.js';

const outDir = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'dist', 'lessons-site'));
const { pages } = await buildSite(LESSONS_DIR, outDir);
process.stdout.write(`wrote ${pages.length} pages to ${outDir}\n`);
