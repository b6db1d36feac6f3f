// A Dockerfile as tsrun builds it: a list of instructions, each with the line it starts on, read by
// dockerfile-ast (the parser behind VS Code's Dockerfile support), which knows the line continuations, the
// comments between continued lines, `# escape=`, flags, JSON arrays and KEY=VALUE lists. What it does not do:
// replace variables (words.ts), and say what is an error; that is checked here, with the file and line.
import { DockerfileParser, type Instruction as ParsedInstruction } from 'dockerfile-ast';
import { TsrunError } from '../errors.js';

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
  const text = `${instruction.keyword}${flags} ${instruction.args.replace(/\s*\n\s*/g, ' ')}`.trim();
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// #region parse
export function parseDockerfile(text: string, name: string): Dockerfile {
  const parsed = DockerfileParser.parse(text);
  const instructions = parsed.getInstructions().map(instructionOf);
  const dockerfile = { name, escape: parsed.getEscapeCharacter(), instructions };
  for (const instruction of instructions) check(dockerfile, instruction);
  if (!instructions.some((instruction) => instruction.keyword === 'FROM')) {
    throw new BuildError(`${name}: no FROM instruction`, { hint: 'a Dockerfile starts from an image: FROM busybox, or FROM scratch' });
  }
  return dockerfile;
}
// #endregion

function instructionOf(parsed: ParsedInstruction): Instruction {
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
  if (keyword === 'ONBUILD') parseTrigger(dockerfile, instruction, instruction.args);
  if ((keyword === 'COPY' || keyword === 'ADD') && (jsonForm(instruction.args) ?? instruction.words).length < 2) {
    throw buildError(dockerfile, instruction, `${keyword} needs a source and a destination`, `write ${keyword} SOURCE... DESTINATION`);
  }
}

/** An ONBUILD's instruction, read from its text: when the ONBUILD is read (`at` is the ONBUILD), and when it runs in
 *  a build FROM the image that recorded it (`at` is that FROM, which errors name). */
export function parseTrigger(dockerfile: Dockerfile, at: Instruction, text: string): Instruction {
  const parsed = DockerfileParser.parse(text).getInstructions();
  if (parsed.length !== 1) throw buildError(dockerfile, at, 'ONBUILD takes one instruction', 'write ONBUILD INSTRUCTION');
  const trigger = { ...instructionOf(parsed[0]!), line: at.line };
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
