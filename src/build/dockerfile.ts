// A Dockerfile as tsrun builds it: a list of instructions, each with the line it starts on, read by
// dockerfile-ast (the parser behind VS Code's Dockerfile support), which knows the line continuations, the
// comments between continued lines, `# escape=`, flags, JSON arrays and KEY=VALUE lists. What it does not do:
// replace variables (words.ts), and say what is an error; that is checked here, with the file and line.
// Here-documents (heredocs.ts) it finds, and says where each one's lines are, but it also reads those lines as
// more arguments of their instruction, and it does not know `3<<EOF` (a document on another descriptor): the
// instruction's own words are read again here from the lines before its documents, and `3<<EOF` is refused.
import { DockerfileParser, type Instruction as ParsedInstruction } from 'dockerfile-ast';
import { TsrunError } from '../errors.js';
import { heredocSummary, heredocWord, type Heredoc } from './heredocs.js';

export interface Instruction {
  /** Where it starts, counted from 1 as editors count. */
  line: number;
  /** Upper case: RUN. */
  keyword: string;
  /** The arguments after the flags, continued lines joined (a shell-form RUN's command). */
  args: string;
  /** The arguments split at white space, as Docker splits COPY's paths. */
  words: string[];
  /** --name=value flags, in order (value null for a bare --name). */
  flags: Array<{ name: string; value: string | null }>;
  /** ENV, LABEL, ARG: each name and its value as written, quotes and variables in (words.ts expands them). */
  properties: Array<{ name: string; value: string | null }>;
  /** RUN, COPY, ADD: the here-documents its words open, in order (`args` and `words` stop before their lines). */
  heredocs: Heredoc[];
}

export interface Dockerfile {
  /** How messages name it: "Dockerfile", or the -f file's name. */
  name: string;
  /** The escape character, `\` unless `# escape=` says another. */
  escape: string;
  instructions: Instruction[];
}

/** The instructions tsrun builds, and the flags each takes. */
export const SUPPORTED: Record<string, string[]> = {
  FROM: [], RUN: [], COPY: ['from', 'chown', 'chmod'], ADD: ['chown', 'chmod'], ENV: [], ARG: [], WORKDIR: [], USER: [], LABEL: [],
  EXPOSE: [], VOLUME: [], CMD: [], ENTRYPOINT: [], STOPSIGNAL: [], SHELL: [], MAINTAINER: [],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'], ONBUILD: [],
};

/** A mistake in the Dockerfile or a step that failed: one line naming the file, the line and the instruction,
 *  and exit code 1, as `docker build` exits. */
export class BuildError extends TsrunError {
  override get exitCode(): number {
    return 1;
  }
}

export function buildError(dockerfile: Pick<Dockerfile, 'name'>, instruction: Instruction, problem: string, hint?: string, cause?: unknown): BuildError {
  return new BuildError(`${dockerfile.name}:${instruction.line}: ${shown(instruction)}: ${problem}`, { hint, cause });
}

/** The instruction as messages and progress lines show it: on one line, long arguments cut short. */
export function shown(instruction: Instruction): string {
  const flags = instruction.flags.map((flag) => ` --${flag.name}${flag.value === null ? '' : `=${flag.value}`}`).join('');
  // A RUN that is one document shows its first line, as BuildKit shows it: RUN <<EOF (apk add curl...)
  const document = instruction.keyword === 'RUN' && instruction.heredocs.length === 1 && heredocWord(instruction.args.trim())
    ? ` (${heredocSummary(instruction.heredocs[0]!)})` : '';
  const text = `${instruction.keyword}${flags} ${instruction.args.replace(/\s*\n\s*/g, ' ')}${document}`.trim();
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// #region parse
export function parseDockerfile(text: string, name: string): Dockerfile {
  const parsed = DockerfileParser.parse(text);
  const escape = parsed.getEscapeCharacter();
  const instructions = parsed.getInstructions().map((instruction) => instructionOf(instruction, text, { name, escape }));
  const dockerfile = { name, escape, instructions };
  for (const instruction of instructions) check(dockerfile, instruction);
  if (!instructions.some((instruction) => instruction.keyword === 'FROM')) {
    throw new BuildError(`${name}: no FROM instruction`, { hint: 'a Dockerfile starts from an image: FROM busybox, or FROM scratch' });
  }
  return dockerfile;
}
// #endregion

/** The instructions whose words may open here-documents (ONBUILD's keep theirs in its text, read again when it runs). */
const WITH_HEREDOCS = ['RUN', 'COPY', 'ADD'];

interface ParsedHeredoc {
  getName(): string;
  getContentRange(): { start: { line: number } } | null;
  getDelimiterRange(): { start: { line: number } } | null;
}

function instructionOf(parsed: ParsedInstruction, text: string, dockerfile: Pick<Dockerfile, 'name' | 'escape'>): Instruction {
  const found = WITH_HEREDOCS.includes(parsed.getKeyword()) ? (parsed as ParsedInstruction & { getHeredocs(): ParsedHeredoc[] }).getHeredocs() : [];
  if (found.length === 0) return { ...wordsOf(parsed), heredocs: [] };
  // Its own words are on the lines before the first document's: read those lines alone.
  const lines = text.split('\n');
  const start = parsed.getRange().start.line;
  const end = (found[0]!.getContentRange() ?? found[0]!.getDelimiterRange())?.start.line ?? parsed.getRange().end.line + 1;
  const directive = dockerfile.escape === '\\' ? '' : `# escape=${dockerfile.escape}\n`;
  const instruction: Instruction = { ...wordsOf(DockerfileParser.parse(directive + lines.slice(start, end).join('\n')).getInstructions()[0]!), line: start + 1, heredocs: [] };
  const opened = jsonForm(instruction.args) ? [] : instruction.words.map(heredocWord).filter((word) => word !== undefined && word.fd === '');
  if (opened.length !== found.length || opened.some((word, i) => word!.name !== found[i]!.getName())) {
    // dockerfile-ast also opens documents where Docker does not (in a JSON array): the lines it took may be
    // instructions. tsrun cannot tell, and says so rather than guess.
    throw buildError(dockerfile, instruction, 'tsrun cannot tell which lines belong to this instruction: its parser reads a here-document here that Docker does not, or the other way round',
      'a here-document opens with a word <<NAME of the shell form, never in a JSON array; write `<< NAME` there to keep it text');
  }
  for (const [i, heredoc] of found.entries()) {
    const closing = heredoc.getDelimiterRange()?.start.line;
    if (closing === undefined) throw buildError(dockerfile, instruction, `here-document ${heredoc.getName()} is never closed`, `end it with a line that is ${heredoc.getName()} alone`);
    const content = lines.slice(heredoc.getContentRange()?.start.line ?? closing, closing).map((line) => `${line}\n`).join('');
    instruction.heredocs.push({ name: heredoc.getName(), chomp: opened[i]!.chomp, expand: opened[i]!.expand, content });
  }
  return instruction;
}

function wordsOf(parsed: ParsedInstruction): Omit<Instruction, 'heredocs'> {
  const withFlags = parsed as ParsedInstruction & { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> };
  const withProperties = parsed as ParsedInstruction & { getProperties?: () => Array<{ getName(): string; getUnescapedValue(): string | null }> };
  return {
    line: parsed.getRange().start.line + 1,
    keyword: parsed.getKeyword(),
    args: parsed.getArgumentsContent() ?? '',
    words: parsed.getArguments().map((argument) => argument.getValue()),
    flags: (withFlags.getFlags?.() ?? []).map((flag) => ({ name: flag.getName(), value: flag.getValue() })),
    // getUnescapedValue is the value as written ("\"two words\""); getValue has its quotes taken out already,
    // too early: whether a `$` was in single quotes decides whether it is replaced.
    properties: (withProperties.getProperties?.() ?? []).map((property) => ({ name: property.getName(), value: property.getUnescapedValue() })),
  };
}

/** What is wrong in an instruction whatever the build: an unknown word, a flag it does not take, no arguments. */
function check(dockerfile: Dockerfile, instruction: Instruction): void {
  const { keyword } = instruction;
  const flags = SUPPORTED[keyword];
  if (!flags) throw buildError(dockerfile, instruction, `unknown instruction: ${keyword}`, `Dockerfile instructions are ${Object.keys(SUPPORTED).sort().join(', ')}`);
  for (const flag of instruction.flags) {
    if (!flags.includes(flag.name)) {
      throw buildError(dockerfile, instruction, `unknown flag: --${flag.name}`, flags.length > 0 ? `${keyword} takes ${flags.map((name) => `--${name}`).join(', ')}` : `${keyword} takes no flags in tsrun`);
    }
    if (flag.value === null || flag.value === '') throw buildError(dockerfile, instruction, `--${flag.name} needs a value`, `write --${flag.name}=VALUE`);
  }
  if (instruction.args.trim() === '') throw buildError(dockerfile, instruction, `${keyword} needs arguments`);
  for (const word of WITH_HEREDOCS.includes(keyword) ? instruction.words : []) {
    if (heredocWord(word)?.fd) throw buildError(dockerfile, instruction, `a here-document on file descriptor ${heredocWord(word)!.fd} (${word}) is not supported`, 'tsrun reads <<NAME and <<-NAME; redirect in the shell instead: <<NAME and 3<&0');
  }
  for (const { name } of instruction.heredocs) {
    // The name becomes a file's (COPY's, a #! program's): it must stay in its directory.
    if (name.includes('/') || name === '.' || name === '..') throw buildError(dockerfile, instruction, `here-document ${name} cannot name a file`, 'name it with a word without /, as <<config.json');
  }
  if (keyword === 'ONBUILD') parseTrigger(dockerfile, instruction, instruction.args);
  if ((keyword === 'COPY' || keyword === 'ADD') && (jsonForm(instruction.args) ?? instruction.words).length < 2) {
    throw buildError(dockerfile, instruction, `${keyword} needs a source and a destination`, `write ${keyword} SOURCE... DESTINATION`);
  }
  if ((keyword === 'COPY' || keyword === 'ADD') && instruction.heredocs.length > 0 && heredocWord(instruction.words.at(-1)!)) {
    throw buildError(dockerfile, instruction, `${keyword} cannot take a here-document as its destination`, `write ${keyword} <<NAME DESTINATION`);
  }
}

/** An ONBUILD's instruction, read from its text: when the ONBUILD is read (`at` is the ONBUILD), and when it runs in
 *  a build FROM the image that recorded it (`at` is that FROM, which errors name). */
export function parseTrigger(dockerfile: Dockerfile, at: Instruction, text: string): Instruction {
  const parsed = DockerfileParser.parse(text).getInstructions();
  if (parsed.length !== 1) throw buildError(dockerfile, at, 'ONBUILD takes one instruction', 'write ONBUILD INSTRUCTION');
  const trigger = { ...instructionOf(parsed[0]!, text, { name: dockerfile.name, escape: '\\' }), line: at.line };
  if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(trigger.keyword)) throw buildError(dockerfile, at, `${trigger.keyword} isn't allowed as an ONBUILD trigger`);
  check(dockerfile, trigger);
  return trigger;
}

/** The exec form: a JSON array of strings, or undefined when `args` is the shell form. */
export function jsonForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
  } catch {
    return undefined; // Docker's rule: what is not valid JSON is the shell form
  }
}

/** A flag's value, if the instruction has the flag. */
export function flagValue(instruction: Instruction, name: string): string | undefined {
  return instruction.flags.find((flag) => flag.name === name)?.value ?? undefined;
}
