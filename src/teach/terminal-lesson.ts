// `tsrun lesson NAME` in the terminal: headings, text, commands highlighted,
// and each <Region> replaced by the real code it names, with the file and
// lines it came from — so what a student reads is what tsrun runs.
import fs from 'node:fs';
import path from 'node:path';
import { Chalk } from 'chalk';
import { listLessons, regionTags, type Lesson } from './lessons.js';
import { REPO_ROOT, readRegion } from './regions.js';
import { fail } from '../errors.js';

export const LESSONS_DIR = path.join(REPO_ROOT, 'lessons');

const COMMAND_LINE = /^(\$ |sudo |tsrun |\.\/bin\/tsrun\.js )/;

export function lessonList(): string {
  const lessons = listLessons(LESSONS_DIR);
  const width = Math.max(...lessons.map((lesson) => lesson.name.length));
  return lessons.map((lesson) => `  ${String(lesson.order).padStart(2)}  ${lesson.name.padEnd(width)}  ${lesson.title}\n`).join('')
    + '\nRead one with: tsrun lesson NAME\n';
}

export function findLesson(name: string): Lesson {
  const lessons = listLessons(LESSONS_DIR);
  const lesson = lessons.find((l) => l.name === name || String(l.order) === name);
  if (!lesson) throw fail(`there is no lesson "${name}"`, `the lessons are: ${lessons.map((l) => l.name).join(', ')}`);
  return lesson;
}

export function renderLesson(lesson: Lesson, colour: boolean): string {
  const chalk = new Chalk({ level: colour ? 1 : 0 });
  const inline = (text: string) => text
    .replace(/`([^`]+)`/g, (_, code: string) => chalk.cyan(code))
    .replace(/\*\*([^*]+)\*\*/g, (_, bold: string) => chalk.bold(bold));
  const out: string[] = [];
  let inCode = false;
  for (const line of fs.readFileSync(lesson.file, 'utf8').split('\n')) {
    if (line.startsWith('```')) {
      inCode = !inCode;
      continue;
    }
    if (inCode) {
      out.push(COMMAND_LINE.test(line) ? `    ${chalk.yellow(line)}` : `    ${chalk.dim(line)}`);
      continue;
    }
    const [region] = line.trim().startsWith('<Region') ? regionTags(line) : [];
    if (region) {
      const { file, name } = region;
      const code = readRegion(file, name);
      out.push(chalk.dim(`    ── ${file}:${code.startLine}-${code.endLine} (region ${name})`));
      code.code.split('\n').forEach((text, i) => out.push(`${chalk.dim(String(code.startLine + i).padStart(5))}  ${text}`));
      continue;
    }
    const heading = /^(#+)\s+(.*)$/.exec(line);
    if (heading) {
      out.push(heading[1]!.length === 1 ? chalk.bold.underline(heading[2]!) : '\n' + chalk.bold.cyan(heading[2]!));
      continue;
    }
    if (/^(import|export)\s/.test(line)) continue; // MDX module lines are for the web pages
    out.push(inline(line));
  }
  return out.join('\n') + '\n';
}
