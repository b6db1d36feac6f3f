// The lessons in lessons/: one MDX file each, read in the order of their
// number prefix (00-introduction.mdx, 01-pull.mdx, ...). Lessons 1 to 6 are
// the stages of `tsrun run` in the order a run takes them (STAGES in
// src/container.ts; test/unit/teach/lesson-order.test.ts keeps it so), and
// the deeper topics follow. A lesson shows real code through
// <Region file="…" name="…" /> includes, names the span of its stage
// (`tsrun.create`) and tells the reader which tsrun commands to type.
// lessonReferences() lists all three, so a test can check that every one of
// them still exists in the code.
import fs from 'node:fs';
import path from 'node:path';

export interface Lesson {
  /** The number prefix: 5 for 05-namespaces.mdx. */
  order: number;
  /** The file name without its number prefix and extension: 'namespaces'. */
  name: string;
  /** The text of the first `# ` heading. */
  title: string;
  /** The lesson's path: `dir` joined with its file name. */
  file: string;
}

export interface RegionReference {
  file: string;
  name: string;
  /** 1-based line of the lesson where the include is. */
  line: number;
}

export interface SpanReference {
  /** e.g. 'tsrun.namespaces' */
  name: string;
  line: number;
}

export interface CommandReference {
  /** The subcommand: 'run' for `sudo tsrun run --rm tsrun-demo ls`. */
  subcommand: string;
  /** Long options given to tsrun and its subcommand, up to the first argument: ['--rm', '--name']. */
  options: string[];
  /** The whole command as the lesson shows it. */
  text: string;
  line: number;
}

export interface LessonReferences {
  regions: RegionReference[];
  spans: SpanReference[];
  commands: CommandReference[];
}

export interface Heading {
  /** 1 for `#`, 2 for `##`, ... */
  level: number;
  text: string;
  line: number;
}

const LESSON_FILE = /^(\d+)-(.+)\.mdx?$/;

/** The lessons in `dir`, in the order of their number prefix. */
export function listLessons(dir: string): Lesson[] {
  const lessons: Lesson[] = [];
  for (const entry of fs.readdirSync(dir)) {
    const match = LESSON_FILE.exec(entry);
    if (!match) continue;
    const file = path.join(dir, entry);
    const title = lessonHeadings(fs.readFileSync(file, 'utf8')).find((h) => h.level === 1)?.text;
    if (title === undefined) throw new Error(`${file}: a lesson needs a title, a first line like "# What this lesson builds"`);
    lessons.push({ order: Number(match[1]), name: match[2]!, title, file });
  }
  return lessons.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** The Markdown headings of a lesson, outside code blocks. */
export function lessonHeadings(mdx: string): Heading[] {
  const headings: Heading[] = [];
  for (const { text, line, inCode } of lessonLines(mdx)) {
    if (inCode) continue;
    const match = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(text);
    if (match) headings.push({ level: match[1]!.length, text: match[2]!, line });
  }
  return headings;
}

/** What a lesson depends on: the regions it includes, the spans it names, the commands it shows. */
export function lessonReferences(mdx: string): LessonReferences {
  const refs: LessonReferences = { regions: [], spans: [], commands: [] };
  for (const { text, line, inCode } of lessonLines(mdx)) {
    if (inCode) {
      addCommands(refs, text, line);
      continue;
    }
    const prose = withoutComments(text);
    for (const tag of regionTags(prose)) refs.regions.push({ ...tag, line });
    for (const code of inlineCode(prose)) {
      const span = /^tsrun(\.[A-Za-z_][\w-]*)+$/.exec(code);
      if (span && !/\.(js|ts|mjs|cjs|json|mdx?)$/.test(code)) refs.spans.push({ name: code, line });
      addCommands(refs, code, line);
    }
  }
  return refs;
}

/** The <Region …/> tags in a line of prose: the file and region each asks for, its attributes in any order,
 *  quoted either way or as a JSX string. The site, the terminal renderer and the lessons test all read them so. */
export function regionTags(text: string): Array<{ file: string; name: string }> {
  return [...withoutComments(text).matchAll(/<Region\b([^>]*?)\/?>/g)].map((tag) => {
    const attributes = parseAttributes(tag[1]!);
    return { file: attributes.file ?? '', name: attributes.name ?? '' };
  });
}

interface LessonLine { text: string; line: number; inCode: boolean }

/** Each line of the lesson, knowing whether it is inside a ``` or ~~~ fenced block. */
function lessonLines(mdx: string): LessonLine[] {
  const result: LessonLine[] = [];
  let fence: string | null = null;
  mdx.split(/\r?\n/).forEach((text, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence === null && marker) {
      fence = marker;
    } else if (fence !== null && marker && marker[0] === fence[0] && marker.length >= fence.length && text.trim() === marker) {
      fence = null;
    } else {
      result.push({ text, line: i + 1, inCode: fence !== null });
    }
  });
  return result;
}

/** MDX comments `{/* … *\/}` on one line are not part of the lesson. */
function withoutComments(text: string): string {
  return text.replace(/\{\/\*.*?\*\/\}/g, '');
}

function inlineCode(text: string): string[] {
  return [...text.matchAll(/(`+)(.+?)\1/g)].map((m) => m[2]!.trim());
}

function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["'`]([^"'`]*)["'`]\s*\})/g)) {
    attributes[m[1]!] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return attributes;
}

/** tsrun as it may be typed: `tsrun`, `./bin/tsrun.js`, `bin/tsrun.js`, `/path/to/bin/tsrun.js`. */
const TSRUN = /^(?:tsrun|(?:\S*\/)?bin\/tsrun\.js)$/;

/** Find `tsrun SUBCOMMAND …` (also after `sudo`, a `$ ` prompt, or `&&`, `;`, `|`) in one line of shell. */
function addCommands(refs: LessonReferences, text: string, line: number): void {
  const shell = text.replace(/^\s*\$\s+/, ''); // a `$ ` prompt
  if (/^\s*#/.test(shell)) return; // a shell comment
  for (const piece of shell.split(/&&|\|\||;|\||\$\(|\(|\)/)) {
    const words = piece.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++; // VAR=value before the command
    if (words[i] === 'sudo') {
      i++;
      while (i < words.length && words[i]!.startsWith('-')) i++; // sudo -E, sudo -s …
      while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++;
    }
    if (i >= words.length || !TSRUN.test(words[i]!)) continue;
    i++;
    // Global options before the subcommand: --root DIR, --root=DIR, --help …
    const globals: string[] = [];
    while (i < words.length && words[i]!.startsWith('-')) {
      if (words[i]!.startsWith('--')) globals.push(words[i]!.split('=')[0]!);
      i += words[i] === '--root' ? 2 : 1;
    }
    const subcommand = words[i];
    if (subcommand && /^[a-z][a-z0-9-]*$/.test(subcommand)) {
      const options = [...globals, ...leadingOptions(words.slice(i + 1))];
      refs.commands.push({ subcommand, options, text: words.join(' '), line });
    }
  }
}

/** The long options at the start of a subcommand's arguments, up to its first argument.
 *  A word right after an option is taken as that option's value (it may be a boolean
 *  option's first argument instead: then we merely stop one word late). */
function leadingOptions(words: string[]): string[] {
  const options: string[] = [];
  let previousWasOption = false;
  for (const word of words) {
    if (word === '--') break;
    if (word.startsWith('-')) {
      if (word.startsWith('--')) options.push(word.split('=')[0]!);
      previousWasOption = !word.includes('=');
    } else if (previousWasOption) {
      previousWasOption = false; // the option's value
    } else {
      break;
    }
  }
  return options;
}
