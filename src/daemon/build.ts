// POST /build: `docker build` with the classic builder, which the docker CLI uses when it has no buildx plugin or
// when DOCKER_BUILDKIT=0. The body is the build context, a tar (gzip'd or not) of the directory the CLI was given,
// less what its .dockerignore leaves out; the query carries the flags. The daemon unpacks the context into a
// directory of its own (src/build/context.ts) and builds it with tsrun build's code (src/build/build.ts): the same steps, the same cache,
// the same image. Only the telling differs: the classic builder's JSON lines, which the CLI prints as they come.
//
//   {"stream":"Step 2/3 : COPY app.txt /app.txt\n"}
//   {"stream":" ---> Using cache\n"}
//   {"stream":" ---> 1e7bfb876c30\n"}
//   …
//   {"aux":{"ID":"sha256:…"}}
//   {"stream":"Successfully built 82382f14f8bd\n"}
//
// A failure once the stream has begun is its last line, {"errorDetail":{"message":…},"error":…}: the CLI prints
// it and exits 1, or with the code a failed RUN's command exited with.
import { build, RunFailed, type BuildRequest } from '../build/build.js';
import { dockerfileIn, unpackContext } from '../build/context.js';
import type { Progress, StepPlace, StepProgress } from '../build/progress.js';
import { familiarString, parseReference } from '../image/reference.js';
import { badRequest, messageOf, queryFlag, writeJsonLine, type DaemonRequest } from './http.js';

// #region build
export async function buildImage({ runtime, query, req, res }: DaemonRequest): Promise<void> {
  const options = buildOptions(query);
  const { dir: context, remove } = await unpackContext(runtime, req).catch((error: unknown) => {
    throw badRequest(messageOf(error));
  });
  try {
    const name = query.get('dockerfile') || 'Dockerfile';
    const dockerfile = dockerfileIn(context, name);
    if (!dockerfile) throw badRequest(`Cannot locate specified Dockerfile: ${name}`);

    res.writeHead(200, { 'Content-Type': 'application/json' });
    // With -q (q=1) nothing is told but the image's id; what was held back is told if the build fails.
    const held: object[] = [];
    const send = (message: object) => (options.quiet ? held.push(message) : writeJsonLine(res, message));
    try {
      const image = await build(runtime, { ...options.request, context, dockerfile }, new ClassicProgress(send));
      if (options.quiet) writeJsonLine(res, { stream: `${image.id}\n` });
    } catch (error) {
      for (const message of held) writeJsonLine(res, message);
      // A failed RUN's code is the one `docker build` exits with; without one, it exits 1.
      const run = (error as Error).cause instanceof RunFailed ? (error as Error).cause as RunFailed : undefined;
      writeJsonLine(res, { errorDetail: { message: messageOf(error), ...(run ? { code: run.status } : {}) }, error: messageOf(error) });
    }
    res.end();
  } finally {
    remove();
  }
}
// #endregion

/** The query's flags, as `docker build` sends them: t=NAME (once per -t), buildargs={"K":"V"}, labels={"K":"V"},
 *  target, nocache=1, pull=1, networkmode, q=1. */
function buildOptions(query: URLSearchParams): { quiet: boolean; request: Omit<BuildRequest, 'context' | 'dockerfile'> } {
  if (query.get('remote')) throw badRequest('tsrun\'s daemon builds from an uploaded context only, not from a URL or a git repository');
  // The classic builder removes each RUN's container (rm=1, its default); keeping them (rm=0) tsrun does not do.
  if (query.has('rm') && !queryFlag(query, 'rm') && !queryFlag(query, 'forcerm')) throw badRequest('tsrun always removes the containers of a build\'s RUN steps: rm=0 is not supported');
  const tags = query.getAll('t').filter(Boolean).map((name) => {
    try {
      const reference = parseReference(name);
      if (reference.digest === undefined) return reference.canonical;
    } catch {
      // told below
    }
    throw badRequest(`invalid tag "${name}": give NAME[:TAG]`);
  });
  const network = query.get('networkmode');
  return {
    quiet: queryFlag(query, 'q'),
    request: {
      tags,
      // A --build-arg NAME the CLI found no value for comes as null: docker leaves it out, and so does tsrun.
      buildArgs: Object.fromEntries(Object.entries(jsonMap(query, 'buildargs')).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
      labels: Object.fromEntries(Object.entries(jsonMap(query, 'labels')).map(([name, value]) => [name, String(value ?? '')])),
      target: query.get('target') || undefined,
      noCache: queryFlag(query, 'nocache'),
      pull: queryFlag(query, 'pull'),
      network: !network || network === 'default' ? 'bridge' : network,
    },
  };
}

function jsonMap(query: URLSearchParams, name: string): Record<string, unknown> {
  const text = query.get(name);
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // told below
  }
  throw badRequest(`${name} is not a JSON object: ${text}`);
}

// #region classic-progress
/** The classic builder's telling: "Step N/M : INSTRUCTION", the step's output as it is, then the id of the image the
 *  step made (" ---> 24419564ecc4"), after " ---> Using cache" when an earlier build made it. A RUN's container is
 *  named as it is made (" ---> Running in 0fc2771fe5a0") and removed; dockerd also makes one, which runs nothing,
 *  for each settings step (ENV, CMD, …), but tsrun makes no container there, so it names none. */
export class ClassicProgress implements Progress {
  readonly argsAreSteps = true;

  constructor(private readonly send: (message: object) => void) {}

  step(text: string, place?: StepPlace): StepProgress {
    const write = (line: string) => this.send({ stream: line });
    write(place === undefined ? `${text}\n` : `Step ${place.overall}/${place.total} : ${text}\n`);
    return {
      line: (line) => write(`${line}\n`),
      output: (line) => write(`${line}\n`),
      cached: (id) => write(` ---> Using cache\n ---> ${shortId(id)}\n`),
      done: (id) => write(` ---> ${shortId(id)}\n`),
      error: () => {}, // the error is the stream's last message, which the CLI prints
      containerCreated: (id) => write(` ---> Running in ${shortId(id)}\n`),
      containerRemoved: (id) => write(`Removing intermediate container ${shortId(id)}\n`),
    };
  }

  warn(text: string): void {
    this.send({ stream: `[Warning] ${text}\n` });
  }

  exported(id: string, tags: string[]): void {
    this.send({ aux: { ID: id } });
    this.send({ stream: `Successfully built ${shortId(id)}\n` });
    for (const tag of tags) this.send({ stream: `Successfully tagged ${familiarString(parseReference(tag))}\n` });
  }
}
// #endregion

/** The 12 hex digits docker shows of an id; nothing for FROM scratch's image, which has none. */
const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
