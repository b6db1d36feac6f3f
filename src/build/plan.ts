// From a Dockerfile to the stages a build runs, before anything runs: where each stage starts (an image,
// scratch, or an earlier stage), which stages it needs (its base, and those its COPY --from names), and
// so which stages the target needs, in an order that builds each one after those it needs. A stage the
// target does not need is not built at all.
import { buildError, BuildError, flagValue, type Dockerfile, type Instruction } from './dockerfile.js';
import { expandWord, type Lookup } from './words.js';

export interface Stage {
  /** 0 for the first FROM. */
  index: number;
  /** `AS name`, lower case as Docker compares it. */
  name?: string;
  from: Instruction;
  base: StageBase;
  /** The instructions after FROM, up to the next FROM. */
  steps: Instruction[];
}

export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'stage'; index: number }
  | { kind: 'image'; reference: string };

export interface BuildPlan {
  dockerfile: Dockerfile;
  /** ARGs before the first FROM, with their values (a --build-arg's, else the default): FROM lines use them,
   *  and a stage's `ARG NAME` without a default takes its value from here. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
  /** The stages to build, each after those it needs; the target is last. */
  order: number[];
  /** Things Docker would warn about too: a --build-arg no ARG declares, a variable with no value. */
  warnings: string[];
}

export interface PlanOptions {
  buildArgs: Map<string, string>;
  /** --target: the stage to build (default: the last). */
  target?: string;
}

// #region plan
export function planBuild(dockerfile: Dockerfile, options: PlanOptions): BuildPlan {
  const warnings: string[] = [];
  const firstFrom = dockerfile.instructions.findIndex((instruction) => instruction.keyword === 'FROM');
  const globalArgs = new Map<string, string | undefined>();
  for (const instruction of dockerfile.instructions.slice(0, firstFrom)) {
    if (instruction.keyword !== 'ARG') throw buildError(dockerfile, instruction, 'only ARG may come before the first FROM', 'move it after FROM');
    for (const [name, value] of declaredArgs(dockerfile, instruction, options.buildArgs, (n) => globalArgs.get(n), warnings)) globalArgs.set(name, value);
  }

  const stages: Stage[] = [];
  let current: Stage | undefined;
  for (const instruction of dockerfile.instructions.slice(firstFrom)) {
    if (instruction.keyword !== 'FROM') {
      current!.steps.push(instruction);
      continue;
    }
    current = stageOf(dockerfile, instruction, stages, (name) => globalArgs.get(name), warnings);
    stages.push(current);
  }

  const target = targetStage(stages, options.target);
  const order = buildOrder(dockerfile, stages, target);
  const declared = new Set([...globalArgs.keys(), ...order.flatMap((index) => stages[index]!.steps.filter((s) => s.keyword === 'ARG').flatMap((s) => s.properties.map((p) => p.name)))]);
  const unused = [...options.buildArgs.keys()].filter((name) => !declared.has(name));
  if (unused.length > 0) warnings.push(`one or more build-args [${unused.join(' ')}] were not consumed: no ARG declares them`);
  return { dockerfile, globalArgs, stages, order, warnings };
}
// #endregion

/** An ARG instruction's names and values: the --build-arg's when there is one, else the default written
 *  (its variables replaced by `lookup`), else (a stage's `ARG NAME`) `inherited`, else none. */
export function declaredArgs(
  dockerfile: Dockerfile, instruction: Instruction, buildArgs: Map<string, string>, lookup: Lookup, warnings: string[],
  inherited: Lookup = () => undefined,
): Array<[string, string | undefined]> {
  return instruction.properties.map(({ name, value }) => {
    if (buildArgs.has(name)) return [name, buildArgs.get(name)];
    if (value !== null) return [name, expand(dockerfile, instruction, value, lookup, warnings)];
    return [name, inherited(name)];
  });
}

/** expandWord, with its complaint turned into the Dockerfile's error and a warning for each variable used that
 *  has no value (Docker replaces it with nothing, and so does tsrun). */
export function expand(dockerfile: Dockerfile, instruction: Instruction, text: string, lookup: Lookup, warnings: string[]): string {
  try {
    return expandWord(text, (name, guarded) => {
      const value = lookup(name);
      if (value === undefined && !guarded) warnings.push(`${dockerfile.name}:${instruction.line}: $${name} has no value here (no ENV, or an ARG with no value or --build-arg): it is replaced by nothing`);
      return value;
    }, dockerfile.escape);
  } catch (error) {
    throw buildError(dockerfile, instruction, (error as Error).message);
  }
}

/** `FROM image [AS name]`, its variables from the global ARGs. */
function stageOf(dockerfile: Dockerfile, from: Instruction, earlier: Stage[], globals: Lookup, warnings: string[]): Stage {
  const words = from.words.map((word) => expand(dockerfile, from, word, globals, warnings));
  if (!(words.length === 1 || (words.length === 3 && words[1]!.toLowerCase() === 'as'))) {
    throw buildError(dockerfile, from, 'FROM takes an image and, optionally, AS NAME', 'write FROM IMAGE [AS NAME]');
  }
  const name = words[2]?.toLowerCase();
  if (name !== undefined && !/^[a-z][a-z0-9._-]*$/.test(name)) throw buildError(dockerfile, from, `invalid stage name "${words[2]}"`, 'start it with a letter; use letters, digits, ".", "_" and "-"');
  if (name !== undefined && earlier.some((stage) => stage.name === name)) throw buildError(dockerfile, from, `there is another stage named "${name}"`, 'give each stage its own name');
  const image = words[0]!;
  if (image === '') throw buildError(dockerfile, from, 'FROM names no image', 'check the ARG it uses');
  // Only an earlier stage can be a base: a name that is no earlier stage's is an image's.
  const baseStage = earlier.find((stage) => stage.name === image.toLowerCase());
  const base: StageBase = baseStage ? { kind: 'stage', index: baseStage.index } : image === 'scratch' ? { kind: 'scratch' } : { kind: 'image', reference: image };
  return { index: earlier.length, name, from, base, steps: [] };
}

function targetStage(stages: Stage[], target: string | undefined): number {
  if (target === undefined) return stages.length - 1;
  const stage = stages.find((candidate) => candidate.name === target.toLowerCase());
  if (!stage) throw new BuildError(`target stage "${target}" could not be found`, { hint: `the stages are named ${stages.flatMap((s) => (s.name ? [s.name] : [])).join(', ') || '(none: name one with FROM IMAGE AS NAME)'}` });
  return stage.index;
}

/** The stage a COPY --from names: by name or number, or none (then it names an image). */
export function stageNamed(stages: Stage[], value: string): Stage | undefined {
  if (/^\d+$/.test(value)) return stages[Number(value)];
  return stages.find((stage) => stage.name === value.toLowerCase());
}

// #region order
/** The stages `target` needs, depth first, each after what it needs; a stage that needs itself, through any
 *  number of others, is an error naming the circle. */
function buildOrder(dockerfile: Dockerfile, stages: Stage[], target: number): number[] {
  const order: number[] = [];
  const visiting: number[] = [];
  const visit = (index: number, via?: Instruction) => {
    if (order.includes(index)) return;
    if (visiting.includes(index)) {
      const circle = [...visiting.slice(visiting.indexOf(index)), index].map((i) => stageLabel(stages[i]!)).join(' → ');
      throw buildError(dockerfile, via!, `the stages need each other in a circle: ${circle}`, 'a stage can copy only from stages that do not need it');
    }
    visiting.push(index);
    const stage = stages[index]!;
    if (stage.base.kind === 'stage') visit(stage.base.index, stage.from);
    for (const step of stage.steps) {
      const from = step.keyword === 'COPY' ? flagValue(step, 'from') : undefined;
      const source = from === undefined ? undefined : stageNamed(stages, from);
      if (from !== undefined && /^\d+$/.test(from) && !source) throw buildError(dockerfile, step, `there is no stage ${from}`, `stages are numbered from 0 to ${stages.length - 1}`);
      if (source) visit(source.index, step);
    }
    visiting.pop();
    order.push(index);
  };
  visit(target);
  return order;
}
// #endregion

export function stageLabel(stage: Stage): string {
  return stage.name ?? `stage-${stage.index}`;
}
