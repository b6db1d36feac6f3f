// The lessons must stay true to the code. For every lesson in lessons/:
//   - every <Region file=… name=… /> it includes exists in the sources;
//   - every span it names (`tsrun.create`) is a string literal somewhere in src/;
//   - every `tsrun SUBCOMMAND --option` it shows is a registered command, with options it has;
//   - it has the five sections: what we build, the code, try it, check your work, man pages;
//   - its prose is valid MDX (no stray { or <).
// Each failure names the lesson, the line, and what is missing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lessonHeadings, lessonReferences, listLessons, type Lesson } from '../../../src/teach/lessons.js';
import { readRegion } from '../../../src/teach/regions.js';
import { commands } from '../../../src/cli/commands/index.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const LESSONS_DIR = path.join(REPO, 'lessons');

const lessons = listLessons(LESSONS_DIR);
const text = (lesson: Lesson) => fs.readFileSync(lesson.file, 'utf8');
const where = (lesson: Lesson, line: number) => `${path.relative(REPO, lesson.file)}:${line}`;

/** Every TypeScript source under src/, concatenated: where span names must appear. */
function allSources(dir = path.join(REPO, 'src')): string {
  return fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return allSources(full);
    return entry.name.endsWith('.ts') ? fs.readFileSync(full, 'utf8') : '';
  }).join('\n');
}

/** The option names a yargs builder declares, found by running it against a recorder. */
function declaredOptions(builder: unknown): Set<string> {
  const names = new Set<string>();
  const add = (name: string, spec: unknown) => {
    names.add(name);
    const alias = (spec as { alias?: string | string[] } | undefined)?.alias;
    for (const a of alias === undefined ? [] : Array.isArray(alias) ? alias : [alias]) names.add(a);
  };
  if (typeof builder === 'object' && builder !== null) {
    for (const [name, spec] of Object.entries(builder)) add(name, spec);
  } else if (typeof builder === 'function') {
    const recorder: unknown = new Proxy({}, {
      get: (_target, method) => (...args: unknown[]) => {
        if (method === 'options' && typeof args[0] === 'object') for (const [n, s] of Object.entries(args[0] as object)) add(n, s);
        if (method === 'option' && typeof args[0] === 'string') add(args[0], args[1]);
        if (method === 'option' && typeof args[0] === 'object') for (const [n, s] of Object.entries(args[0] as object)) add(n, s);
        return recorder;
      },
    });
    builder(recorder);
  }
  return names;
}

/** subcommand -> the long options it accepts (its own, and the global ones from parse-with-yargs.ts). */
function registeredCommands(): Map<string, Set<string>> {
  const main = fs.readFileSync(path.join(REPO, 'src/cli/parse-with-yargs.ts'), 'utf8');
  const globals = ['help', ...[...main.matchAll(/\.option\(\s*'([\w-]+)'/g)].map((m) => m[1]!)];
  const registered = new Map<string, Set<string>>();
  for (const command of commands) {
    const forms = [command.command ?? [], command.aliases ?? []].flat();
    const options = new Set([...globals, ...declaredOptions(command.builder)]);
    for (const form of forms) registered.set(String(form).split(' ')[0]!, options);
  }
  return registered;
}

const REQUIRED_SECTIONS: { section: string; pattern: RegExp }[] = [
  { section: '"What we build"', pattern: /\bwhat\b.*\bbuild/i },
  { section: '"The code"', pattern: /\bcode\b/i },
  { section: '"Try it"', pattern: /\btry\b/i },
  { section: '"Check your work"', pattern: /\bcheck\b/i },
  { section: '"Man pages to read"', pattern: /\bman\b|\bmanual/i },
];

describe('lessons', () => {
  it('exist, numbered, with a title each, introduction first', () => {
    expect(lessons.length, `no lessons found in ${LESSONS_DIR}`).toBeGreaterThan(0);
    expect(lessons[0]!.name, 'the first lesson should be the introduction').toBe('introduction');
    const orders = lessons.map((l) => l.order);
    expect(new Set(orders).size, `two lessons share a number: ${lessons.map((l) => path.basename(l.file)).join(', ')}`).toBe(orders.length);
  });

  it('are all listed, in order, by the introduction', () => {
    const intro = text(lessons[0]!);
    const positions = lessons.slice(1).map((l) => ({ file: path.basename(l.file), at: intro.indexOf(path.basename(l.file)) }));
    const missing = positions.filter((p) => p.at < 0).map((p) => p.file);
    expect(missing, `${where(lessons[0]!, 1)} does not list these lessons`).toEqual([]);
    const order = [...positions].sort((a, b) => a.at - b.at).map((p) => p.file);
    expect(order, `${where(lessons[0]!, 1)} lists the lessons out of order`).toEqual(positions.map((p) => p.file));
  });
});

describe.each(lessons.map((lesson) => ({ lesson, file: path.basename(lesson.file) })))('lesson $file', ({ lesson }) => {
  const mdx = text(lesson);
  const refs = lessonReferences(mdx);

  it('includes only regions that exist', () => {
    const problems: string[] = [];
    for (const region of refs.regions) {
      if (!region.file || !region.name) {
        problems.push(`${where(lesson, region.line)}: <Region> needs both file="…" and name="…"`);
        continue;
      }
      try {
        readRegion(region.file, region.name);
      } catch (error) {
        problems.push(`${where(lesson, region.line)}: <Region file="${region.file}" name="${region.name}" />: ${(error as Error).message}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
    expect(refs.regions.length, `${where(lesson, 1)} shows no code: include at least one <Region file="…" name="…" />`).toBeGreaterThan(0);
  });

  it('names only spans that the code creates', () => {
    const sources = allSources();
    const missing = refs.spans
      .filter((span) => ![`'${span.name}'`, `"${span.name}"`, `\`${span.name}\``].some((literal) => sources.includes(literal)))
      .map((span) => `${where(lesson, span.line)}: span \`${span.name}\` is not a string literal anywhere in src/`);
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('shows only tsrun commands and options that exist', () => {
    const registered = registeredCommands();
    const problems: string[] = [];
    for (const command of refs.commands) {
      const options = registered.get(command.subcommand);
      if (!options) {
        problems.push(`${where(lesson, command.line)}: \`tsrun ${command.subcommand}\` is not a tsrun command (known: ${[...registered.keys()].join(', ')}) in: ${command.text}`);
        continue;
      }
      for (const option of command.options) {
        const name = option.replace(/^--/, '');
        const known = options.has(name) || (name.startsWith('no-') && options.has(name.slice(3)));
        if (!known) problems.push(`${where(lesson, command.line)}: \`tsrun ${command.subcommand}\` has no option ${option} in: ${command.text}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('has the sections what / code / try / check / man', () => {
    const headings = lessonHeadings(mdx).filter((h) => h.level === 2).map((h) => h.text);
    const missing = REQUIRED_SECTIONS.filter(({ pattern }) => !headings.some((h) => pattern.test(h))).map(({ section }) => section);
    expect(missing, `${where(lesson, 1)} lacks the section(s) ${missing.join(', ')} (its ## headings: ${headings.join(' | ') || 'none'})`).toEqual([]);
  });

  it('is valid MDX prose: no stray { or < outside code', () => {
    const problems: string[] = [];
    let inFence = false;
    mdx.split('\n').forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
      if (inFence || /^\s*(```|~~~)/.test(line)) return;
      const prose = line
        .replace(/(`+).+?\1/g, '')              // inline code
        .replace(/\{\/\*.*?\*\/\}/g, '')         // {/* comments */}
        .replace(/<Region\b[^>]*\/>/g, '');      // our one component
      if (/[{}<]/.test(prose)) problems.push(`${where(lesson, i + 1)}: MDX reads { } and < as code; put it in backticks: ${line.trim()}`);
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('lessonReferences', () => {
  const sample = [
    '# Title',
    'Stage span `tsrun.rwlayer`, not a file like `bin/tsrun.js` or `tsrun.js`.',
    '',
    '<Region file="src/stages/rwlayer.ts" name="rwlayer" />',
    "<Region name='x' file='src/a.ts'/>",
    'Run `sudo tsrun run --rm tsrun-demo ls` or `tsrun ps -a`; `tsrun` alone is not a command.',
    '',
    '```sh',
    '$ sudo tsrun --root /tmp/store images',
    './bin/tsrun.js make-demo-image /tmp/x && ./bin/tsrun.js load -i /tmp/x',
    '# tsrun commented out',
    'tsrun run --rm --name a -e X=1 tsrun-demo sh -c "echo --not-an-option"',
    'echo `tsrun.fake` in code is not prose <Region file="no" name="no" />',
    '```',
  ].join('\n');
  const refs = lessonReferences(sample);

  it('finds region includes in either attribute order, outside code blocks only', () => {
    expect(refs.regions).toEqual([
      { file: 'src/stages/rwlayer.ts', name: 'rwlayer', line: 4 },
      { file: 'src/a.ts', name: 'x', line: 5 },
    ]);
  });

  it('finds span names in inline code', () => {
    expect(refs.spans).toEqual([{ name: 'tsrun.rwlayer', line: 2 }]);
  });

  it('finds tsrun commands in inline code and code blocks, with their leading options', () => {
    expect(refs.commands.map((c) => [c.subcommand, c.options, c.line])).toEqual([
      ['run', ['--rm'], 6],
      ['ps', [], 6],
      ['images', ['--root'], 9],
      ['make-demo-image', [], 10],
      ['load', [], 10],
      ['run', ['--rm', '--name'], 12],
    ]);
  });

  it('orders lessons by their number and titles them by their first heading', () => {
    expect(lessons.map((l) => l.order)).toEqual([...lessons.map((l) => l.order)].sort((a, b) => a - b));
    for (const lesson of lessons) {
      expect(lesson.title).toBe(text(lesson).split('\n').find((line) => line.startsWith('# '))!.slice(2).trim());
      expect(path.basename(lesson.file)).toMatch(new RegExp(`^\\d+-${lesson.name}\\.mdx?$`));
    }
  });
});
