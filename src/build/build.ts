// `tsrun build`: a Dockerfile made into an image, one instruction at a time, each making an image from the
// one before (docker's classic builder does the same):
//
//   FROM      the image to start from: pulled as `tsrun run` pulls it, or an earlier stage's result, or none
//   RUN       a container of the image so far, made and run by src/run.ts's own stages, its command the
//             instruction's; its changes (the rw layer's upper dir) committed as one more layer, as
//             `tsrun commit` does; the container removed
//   COPY      files written straight into one more layer (copy.ts), no container needed
//   ADD       COPY, with a URL downloaded and a local tar archive unpacked first (add.ts)
//   ENV, …    settings only (settings.ts): a new config, a history entry marked empty_layer; WORKDIR
//             also makes its directory, in a layer, when the image has none there; HEALTHCHECK and
//             ONBUILD are recorded there, and an image's ONBUILD instructions run first in a stage FROM it
//   ARG       nothing in the image: a variable the next instructions of its stage may use
//
// Before each step, the cache (cache-key.ts, store/build-cache.ts): a step that would start from the same
// image and do the same takes the image an earlier build made. The target's stage is built after the stages
// it needs (plan.ts); the result is tagged only once every step has succeeded.
import fs from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../runtime.js';
import { checkRunRequest, type ContainerRecord, type NetworkMode, type RunRequest } from '../container.js';
import { createContainer, pullImage, start } from '../run.js';
import { fail, TsrunError } from '../errors.js';
import { deleteContainer } from '../store/containers.js';
import { findImage, saveImage, type ImageRecord } from '../store/images.js';
import { layerDir, tmpDir } from '../store/paths.js';
import { makeStagingDir } from '../store/atomic.js';
import { cachedImage, rememberImage } from '../store/build-cache.js';
import { containerLayer, newImage } from '../containers/commit.js';
import { hostPlatform, type ContainerConfig } from '../image/oci.js';
import { readInLayers } from '../image/layer-stack.js';
import { resolveUser } from '../image/passwd.js';
import { pullProgressLines } from '../registry/progress.js';
import { DEFAULT_SECURITY } from '../security/options.js';
import { annotate, inSpan } from '../trace/span.js';
import { BuildError, buildError, flagValue, jsonForm, parseDockerfile, parseTrigger, shown, type Dockerfile, type Instruction } from './dockerfile.js';
import { declaredArgs, expand, planBuild, stageLabel, stageNamed, type BuildPlan, type Stage } from './plan.js';
import { commandOf, settingsChange, withShell } from './settings.js';
import { cleanPath, contextTree, imageTree, resolveIn, type SourceTree } from './trees.js';
import { copyChecksum, copyLayer, namesDirectory, oneDestination, planCopy } from './copy.js';
import { contentOf, heredocCommand, heredocWord, PROGRAM_DIR, type Heredoc } from './heredocs.js';
import { planAdd } from './add.js';
import { cacheKey } from './cache-key.js';
import { outputPipe, type Progress, type StepPlace, type StepProgress } from './progress.js';
import { expandContent, variablesIn } from './words.js';

/** Everything a build needs, parsed and checked by its front door (src/cli/commands/build.ts). */
export interface BuildRequest {
  /** The build context: a directory. */
  context: string;
  dockerfile: { text: string; name: string };
  /** Canonical names for the result. */
  tags: string[];
  buildArgs: Record<string, string>;
  /** --target: the stage to build; default the last. */
  target?: string;
  noCache: boolean;
  /** The network RUN's containers get: bridge (the default), none, host, or a user network. */
  network: NetworkMode;
  /** --label: more labels on the result. */
  labels: Record<string, string>;
  /** --pull: pull the images FROM names even when the store has them. */
  pull: boolean;
}

/** An image as a step starts from it; FROM scratch is the image with no layers, id ''. */
type Image = Pick<ImageRecord, 'id' | 'config' | 'layers'>;

interface StageState {
  image: Image;
  /** The ARGs this stage declared so far, and their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

/** A RUN whose command exited with another code than 0. `tsrun build` exits 1 all the same, as BuildKit's docker
 *  build does; through the daemon, `docker build` exits with the command's code, as it does with dockerd's. */
export class RunFailed extends TsrunError {
  constructor(message: string, readonly status: number) {
    super(message, { hint: 'see the command\'s output above' });
  }
}

/** The steps a stage shows: its FROM and each instruction (but ARG, unless the progress counts it). */
const stepsIn = (stage: Stage, withArgs = false) => stage.steps.filter((step) => withArgs || step.keyword !== 'ARG').length + 1;

// #region build
export async function build(runtime: Runtime, request: BuildRequest, progress: Progress): Promise<ImageRecord> {
  const dockerfile = parseDockerfile(request.dockerfile.text, request.dockerfile.name);
  const plan = planBuild(dockerfile, { buildArgs: new Map(Object.entries(request.buildArgs)), target: request.target });
  for (const warning of plan.warnings) progress.warn(warning);
  const builder = new Builder(runtime, request, plan, progress);

  for (const index of plan.order) builder.built.set(index, await builder.stage(plan.stages[index]!));
  let image = builder.built.get(plan.order.at(-1)!)!;
  if (Object.keys(request.labels).length > 0 || image.id === '') image = await builder.finalSettings(image);

  const stored = await saveImage(runtime.sys, runtime.paths, { ...findImage(runtime.paths, image.id)!, repoTags: request.tags, repoDigests: [] });
  progress.exported(stored.id, request.tags);
  return stored;
}
// #endregion

class Builder {
  /** Each stage's result, by its index, once built. */
  readonly built = new Map<number, Image>();
  /** How many steps this build takes, and how many it has begun. */
  private readonly steps: number;
  private begun = 0;
  private readonly context: SourceTree;
  private readonly buildArgs: Map<string, string>;

  constructor(private readonly runtime: Runtime, private readonly request: BuildRequest, private readonly plan: BuildPlan, private readonly progress: Progress) {
    const ignoreFile = path.join(request.context, '.dockerignore');
    this.context = contextTree(request.context, fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8') : '');
    this.buildArgs = new Map(Object.entries(request.buildArgs));
    this.steps = plan.order.reduce((sum, index) => sum + stepsIn(plan.stages[index]!, progress.argsAreSteps), 0);
  }

  private get dockerfile(): Dockerfile {
    return this.plan.dockerfile;
  }

  // #region stage
  /** One stage: its FROM, then each instruction in order. */
  async stage(stage: Stage): Promise<Image> {
    const of = stepsIn(stage, this.progress.argsAreSteps);
    const place = (n: number): StepPlace => ({ stage: this.plan.stages.length > 1 ? stageLabel(stage) : undefined, n, of, overall: ++this.begun, total: this.steps });
    const state: StageState = { image: await this.from(stage, place(1)), args: new Map(), cmdSet: false };
    await this.triggers(stage, state);
    let n = 1;
    for (const instruction of stage.steps) {
      if (instruction.keyword !== 'ARG') state.image = await this.step(state, instruction, place(++n));
      else {
        this.declare(state, instruction);
        if (this.progress.argsAreSteps) this.progress.step(shown(instruction), place(++n)).done(state.image.id); // the image as it was
      }
    }
    return state.image;
  }
  // #endregion

  /** ONBUILD: the triggers the base recorded run first, as if written right after FROM. The images they and the
   *  stage's own steps make keep none of them: a trigger runs in the build FROM its image, not in the next. */
  private async triggers(stage: Stage, state: StageState): Promise<void> {
    const triggers = state.image.config.config?.OnBuild ?? [];
    if (triggers.length === 0) return;
    state.image = { ...state.image, config: { ...state.image.config, config: { ...state.image.config.config, OnBuild: null } } };
    for (const text of triggers) {
      const trigger = parseTrigger(this.dockerfile, stage.from, text);
      if (trigger.keyword === 'ARG') this.declare(state, trigger);
      else state.image = await this.step(state, trigger, undefined, `ONBUILD ${shown(trigger)}`);
    }
  }

  private async from(stage: Stage, place: StepPlace): Promise<Image> {
    const { base } = stage;
    const name = base.kind === 'image' ? base.reference : base.kind === 'scratch' ? 'scratch' : stageLabel(this.plan.stages[base.index]!);
    const step = this.progress.step(`FROM ${name}`, place);
    return this.inStep(step, stage.from, async () => {
      const image: Image = base.kind === 'stage' ? this.built.get(base.index)!
        : base.kind === 'scratch' ? { id: '', layers: [], config: { ...hostPlatform(), config: {}, rootfs: { type: 'layers', diff_ids: [] } } }
        : await this.pull(base.reference, step);
      step.done(image.id);
      return image;
    });
  }

  private async pull(reference: string, step: StepProgress): Promise<ImageRecord> {
    return pullImage(this.runtime, reference, { policy: this.request.pull ? 'always' : 'missing', progress: pullProgressLines((line) => step.line(line)) });
  }

  /** ARG: the values of the names it declares; nothing changes in the image. */
  private declare(state: StageState, instruction: Instruction): void {
    const warnings: string[] = [];
    const declared = declaredArgs(this.dockerfile, instruction, this.buildArgs, this.lookup(state), warnings, (name) => this.plan.globalArgs.get(name));
    for (const [name, value] of declared) state.args.set(name, value);
    this.warn(warnings);
  }

  // #region step
  /** One instruction that makes an image: from the cache, or made now. */
  private async step(state: StageState, instruction: Instruction, place: StepPlace | undefined, label = shown(instruction)): Promise<Image> {
    const step = this.progress.step(label, place);
    const warnings: string[] = [];
    const parent = state.image;
    const image = await this.inStep(step, instruction, async () => {
      const made = await this.make(state, instruction, step, warnings);
      annotate({ 'tsrun.build.image.id': made.id });
      if (made.layers.length > parent.layers.length) {
        const layer = made.layers.at(-1)!;
        annotate({ 'tsrun.build.layer.digest': layer.digest, 'tsrun.build.layer.size': layer.size });
      }
      return made;
    });
    this.warn(warnings);
    return image;
  }

  private async make(state: StageState, instruction: Instruction, step: StepProgress, warnings: string[]): Promise<ImageRecord> {
    switch (instruction.keyword) {
      case 'RUN': return this.run(state, instruction, step, warnings);
      case 'COPY': case 'ADD': return this.copy(state, instruction, step, warnings);
      case 'WORKDIR': return this.workdir(state, instruction, step, warnings);
      default: return this.settings(state, instruction, step, warnings);
    }
  }
  // #endregion

  /** Runs a step in its span, `tsrun.build.step`; a failure is shown in the step's block and becomes the
   *  Dockerfile's error, naming the line and the instruction. */
  private async inStep<T extends Image>(step: StepProgress, instruction: Instruction, work: () => Promise<T>): Promise<T> {
    return inSpan('tsrun.build.step', { 'tsrun.build.instruction': shown(instruction), 'tsrun.build.line': instruction.line }, async () => {
      try {
        return await work();
      } catch (error) {
        const failure = error instanceof BuildError ? error
          : buildError(this.dockerfile, instruction, error instanceof TsrunError ? error.message : String((error as Error).message ?? error), error instanceof TsrunError ? error.hint : undefined, error);
        step.error(failure.message.replace(`${this.dockerfile.name}:${instruction.line}: ${shown(instruction)}: `, ''));
        throw failure;
      }
    });
  }

  /** The image a step with `key` made before, or the one `make` makes now (and the cache remembers). */
  private async cachedOr(step: StepProgress, key: string, make: () => Promise<ImageRecord>): Promise<ImageRecord> {
    const hit = this.request.noCache ? undefined : cachedImage(this.runtime.paths, key);
    const cached = hit === undefined ? undefined : findImage(this.runtime.paths, hit);
    annotate({ 'tsrun.build.cached': cached !== undefined });
    if (cached) {
      step.cached(cached.id);
      return cached;
    }
    const made = await make();
    await rememberImage(this.runtime.sys, this.runtime.paths, key, made.id);
    step.done(made.id);
    return made;
  }

  // #region run
  /** RUN: the command in a container of the image so far, with the stage's build args in its environment. */
  private async run(state: StageState, instruction: Instruction, step: StepProgress, warnings: string[]): Promise<ImageRecord> {
    const config = state.image.config.config ?? {};
    const heredoc = instruction.heredocs.length > 0 ? heredocCommand(instruction) : undefined;
    const argv = heredoc ? withShell(heredoc.command, config) : commandOf(instruction.args, config);
    const env = this.runArgs(state, config);
    for (const name of variablesIn(heredoc?.command ?? instruction.args)) {
      if (state.args.has(name) && state.args.get(name) === undefined) warnings.push(`${this.dockerfile.name}:${instruction.line}: ARG ${name} has no value (no default, no --build-arg): $${name} is empty`);
    }
    // Docker's history shows the build args a RUN had: "RUN |1 VERSION=2 /bin/sh -c make".
    const text = `RUN ${env.length > 0 ? `|${env.length} ${env.join(' ')} ` : ''}${argv.join(' ')}`;
    // A document run as a program is not in the command line: its content is part of what the step does.
    const key = cacheKey({ parent: state.image.id, text: JSON.stringify(heredoc?.program ? [...argv, heredoc.program] : argv), args: env });
    return this.cachedOr(step, key, () => this.runContainer(state.image, argv, env, text, step, heredoc?.program));
  }

  /** The stage's ARGs that have a value and that no ENV overrides (ENV wins, as in Docker). */
  private runArgs(state: StageState, config: ContainerConfig): string[] {
    const envNames = new Set((config.Env ?? []).map((entry) => entry.slice(0, entry.indexOf('='))));
    return [...state.args].filter(([name, value]) => value !== undefined && !envNames.has(name)).map(([name, value]) => `${name}=${value}`);
  }

  private async runContainer(image: Image, argv: string[], env: string[], text: string, step: StepProgress, program?: { name: string; content: string }): Promise<ImageRecord> {
    if (image.id === '') throw fail('there is nothing to run in this stage yet: it starts FROM scratch', 'COPY a program in first, or start FROM an image that has one');
    // A `#!` here-document is a file the container runs from a read-only mount, never part of the layer.
    const programDir = program && makeStagingDir(tmpDir(this.runtime.paths), 'heredoc');
    const request: RunRequest = {
      image: image.id, pull: 'never', command: argv, entrypoint: [], env,
      interactive: false, stdinOnce: false, tty: false, autoRemove: false, network: this.request.network, aliases: [], labels: {},
      ports: [], publishAll: false, mounts: programDir ? [{ type: 'bind', source: programDir, target: PROGRAM_DIR, readOnly: true }] : [],
      readOnly: false, restart: { name: 'no', maximumRetryCount: 0 }, resources: {}, security: DEFAULT_SECURITY,
    };
    const output = outputPipe(this.runtime.sys, step);
    let container: ContainerRecord | undefined;
    try {
      if (programDir) {
        fs.chmodSync(programDir, 0o755); // the image's USER may be another than root
        fs.writeFileSync(path.join(programDir, program!.name), program!.content, { mode: 0o755 });
      }
      checkRunRequest(request);
      container = await createContainer(this.runtime, request);
      step.containerCreated?.(container.id);
      const exit = await start(this.runtime, container, { io: { stdin: 0, stdout: output.fd, stderr: output.fd } });
      await output.finish();
      if (exit.exitCode !== 0) {
        throw new RunFailed(`process "${argv.join(' ')}" did not complete successfully: exit code: ${exit.exitCode}`, exit.exitCode);
      }
      return await newImage(this.runtime, image, { layer: containerLayer(this.runtime, container, false), config: image.config.config ?? {}, history: { created_by: text }, repoTags: [] });
    } finally {
      await output.finish();
      if (container) {
        deleteContainer(this.runtime.paths, container.id);
        step.containerRemoved?.(container.id);
      }
      if (programDir) fs.rmSync(programDir, { recursive: true, force: true });
    }
  }
  // #endregion

  // #region copy
  /** COPY and ADD: the files as one more layer; the cache compares their checksum. */
  private async copy(state: StageState, instruction: Instruction, step: StepProgress, warnings: string[]): Promise<ImageRecord> {
    const word = (text: string) => expand(this.dockerfile, instruction, text, this.lookup(state), warnings);
    const written = jsonForm(instruction.args) ?? instruction.words;
    const destination = word(written.at(-1)!);
    // The here-documents' words name no file of the source: their content is copied (below).
    const paths = written.slice(0, -1).filter((text) => instruction.heredocs.length === 0 || !heredocWord(text)).map(word);
    if (paths.length + instruction.heredocs.length > 1 && !namesDirectory(destination)) throw oneDestination(destination);
    const from = flagValue(instruction, 'from');
    const source = from === undefined ? this.context : await this.sourceImage(from, step);
    const chown = flagValue(instruction, 'chown');
    const chmod = flagValue(instruction, 'chmod');
    if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod)) throw buildError(this.dockerfile, instruction, `invalid --chmod=${chmod}`, 'give the mode in octal, as in --chmod=755');
    const owner = chown === undefined ? undefined : this.owner(state.image, word(chown));

    const target = imageTree(this.runtime.sys, this.layerDirs(state.image), 'the image');
    const request = { sources: paths, destination, workdir: state.image.config.config?.WorkingDir || '/', owner, mode: chmod === undefined ? undefined : parseInt(chmod, 8) };
    // ADD's downloads and unpacked archives, and the here-documents' files, until the layer is written.
    const scratch = instruction.keyword === 'ADD' || instruction.heredocs.length > 0 ? makeStagingDir(tmpDir(this.runtime.paths), 'add') : undefined;
    try {
      const items = paths.length === 0 ? []
        : instruction.keyword === 'COPY' ? planCopy(source, target, { ...request, keepOwners: from !== undefined })
        : await planAdd(this.runtime.sys, source, target, request, scratch!);
      for (const [i, document] of instruction.heredocs.entries()) {
        const dir = path.join(scratch!, `heredoc-${i}`);
        items.push(...planCopy(this.documentTree(state, document, dir), target, { ...request, sources: [document.name], keepOwners: false }));
      }
      const flags = [from === undefined ? '' : `--from=${from} `, chown === undefined ? '' : `--chown=${word(chown)} `, chmod === undefined ? '' : `--chmod=${chmod} `].join('');
      const text = `${instruction.keyword} ${flags}${[...paths, ...instruction.heredocs.map((document) => `<<${document.name}`), destination].join(' ')}`;
      const key = cacheKey({ parent: state.image.id, text, files: await copyChecksum(items) });
      return await this.cachedOr(step, key, () => newImage(this.runtime, state.image, {
        layer: { entries: () => copyLayer(items, target, owner ?? { uid: 0, gid: 0 }, new Date()) },
        config: state.image.config.config ?? {},
        history: { created_by: text },
        repoTags: [],
      }));
    } finally {
      if (scratch !== undefined) fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** A here-document of COPY or ADD as a file named after it, alone in `dir`: its variables replaced unless its
   *  name was quoted, mode 0644 (BuildKit's) unless --chmod says otherwise. */
  private documentTree(state: StageState, document: Heredoc, dir: string): SourceTree {
    const lookup = this.lookup(state);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, document.name), document.expand ? expandContent(contentOf(document), lookup) : contentOf(document), { mode: 0o644 });
    fs.chmodSync(path.join(dir, document.name), 0o644); // whatever the umask
    return contextTree(dir, '');
  }

  /** COPY --from: a stage built already (plan.ts built the stages a stage needs first), or an image. */
  private async sourceImage(from: string, step: StepProgress): Promise<SourceTree> {
    const stage = stageNamed(this.plan.stages, from);
    // The plan built every stage a COPY --from in the Dockerfile names; one an ONBUILD trigger names it could not see.
    if (stage && !this.built.has(stage.index)) throw fail(`stage ${stageLabel(stage)} is not built before this step`, 'name an earlier stage');
    const image = stage ? this.built.get(stage.index)! : await this.pull(from, step);
    return imageTree(this.runtime.sys, this.layerDirs(image), stage ? `stage ${stageLabel(stage)}` : `image ${from}`);
  }

  /** --chown=USER[:GROUP], names read from the image's /etc/passwd and /etc/group; a user alone is also
   *  the group's number, as Docker does. */
  private owner(image: Image, spec: string): { uid: number; gid: number } {
    const user = this.user(image, spec);
    return { uid: user.uid, gid: spec.includes(':') ? user.gid : user.uid };
  }

  /** USER's numbers, as the image's /etc/passwd and /etc/group give them. */
  private user(image: Image, spec: string): { uid: number; gid: number } {
    const layers = this.layerDirs(image);
    const read = (file: string) => readInLayers(layers, file, this.runtime.sys) ?? '';
    return resolveUser(spec, read('/etc/passwd'), read('/etc/group'));
  }
  // #endregion

  /** ENV, WORKDIR, USER, …: the settings changed, the same layers. */
  private async settings(state: StageState, instruction: Instruction, step: StepProgress, warnings: string[]): Promise<ImageRecord> {
    const base = state.image.config.config ?? {};
    const change = settingsChange(this.dockerfile, instruction, base, this.lookup(state), warnings, state.cmdSet);
    if (instruction.keyword === 'CMD') state.cmdSet = true;
    return this.withSettings(state.image, change.text, change.apply, change.author, step);
  }

  /** WORKDIR: a setting, and the directory made when the image has none there yet (owned by USER, as
   *  BuildKit makes it), so the image has it whatever comes next. */
  private async workdir(state: StageState, instruction: Instruction, step: StepProgress, warnings: string[]): Promise<ImageRecord> {
    const { image } = state;
    const change = settingsChange(this.dockerfile, instruction, image.config.config ?? {}, this.lookup(state), warnings, state.cmdSet);
    const config = structuredClone(image.config.config ?? {});
    change.apply(config);
    const tree = imageTree(this.runtime.sys, this.layerDirs(image), 'the image');
    const dir = `/${resolveIn(tree, config.WorkingDir!, true)}`;
    if (tree.entry(cleanPath(dir))?.type === 'directory') return this.withSettings(image, change.text, change.apply, undefined, step);
    const owner = config.User ? this.user(image, config.User) : { uid: 0, gid: 0 };
    const key = cacheKey({ parent: image.id, text: JSON.stringify([change.text, config]) });
    return this.cachedOr(step, key, () => newImage(this.runtime, image, {
      layer: { entries: () => copyLayer([], tree, owner, new Date(), [dir]) }, config, history: { created_by: change.text }, repoTags: [],
    }));
  }

  private async withSettings(image: Image, text: string, apply: (config: ContainerConfig) => void, author: string | undefined, step: StepProgress): Promise<ImageRecord> {
    const config = structuredClone(image.config.config ?? {});
    apply(config);
    // The text alone could be read two ways (ENV A="1 B=2" and ENV A=1 B=2 both show as A=1 B=2): the result cannot.
    const key = cacheKey({ parent: image.id, text: JSON.stringify([text, config, author ?? image.config.author ?? '']) });
    const make = () => newImage(this.runtime, image, { config, history: { created_by: text }, author, repoTags: [] });
    return this.cachedOr(step, key, make);
  }

  /** --label, and the image a build of FROM scratch alone makes. */
  async finalSettings(image: Image): Promise<Image> {
    const labels = Object.entries(this.request.labels);
    const text = labels.length > 0 ? `LABEL ${labels.map(([name, value]) => `${name}=${value}`).join(' ')}` : 'FROM scratch';
    const apply = (config: ContainerConfig) => {
      if (labels.length > 0) config.Labels = { ...config.Labels, ...this.request.labels };
    };
    return this.withSettings(image, text, apply, undefined, this.progress.step(text));
  }

  /** What a variable is in the stage so far: its ENV, else its ARG. */
  private lookup(state: StageState): (name: string) => string | undefined {
    const env = new Map((state.image.config.config?.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    return (name) => env.get(name) ?? state.args.get(name);
  }

  private layerDirs(image: Image): string[] {
    return image.layers.map((layer) => layerDir(this.runtime.paths, layer.diffId)).reverse();
  }

  private warn(warnings: string[]): void {
    for (const warning of new Set(warnings)) this.progress.warn(warning);
  }
}
