// tsrun's command line: yargs parses flags into plain options and each command
// calls one function. Commands import their implementation lazily, so
// `tsrun run` never loads the code of `tsrun load`.
import fs from 'node:fs';
import { formatError, exitCodeOf } from '../errors.js';
import { tsrunVersion } from '../version.js';
import { containerCommandAt, markCommandTail } from './command-tail.js';
import { loadRun, runHandler } from './commands/run.js';
import { containerOptions } from './run-options.js';
import { execHandler, execOptions } from './commands/exec.js';
import { parsePlainExec, parsePlainPull, parsePlainRun } from './plain-run.js';
import { pullHandler } from './commands/pull.js';
import { parseWithYargs } from './parse-with-yargs.js';
import { daemonHost } from './client/host.js';
import { commandName, takeTraceFlag, tracingRequest } from '../trace/request.js';
import type { Tracing } from '../trace/setup.js';

// A reader that goes away (`tsrun run --explain … 2>&1 | head`) must not kill tsrun half-way through a run:
// its container still has to be waited for and cleaned up. What can no longer be written is dropped.
dropWriteErrors('stdout');
dropWriteErrors('stderr');

/** Run the command in process.argv; what tsrun exits with is left in process.exitCode. */
export async function main(): Promise<void> {
  // docker --version and docker -v: the version, and nothing else, before any command.
  if (['--version', '-v'].includes(process.argv[2] ?? '')) {
    process.stdout.write(`tsrun version ${tsrunVersion()}\n`);
    return;
  }
  // With a daemon named (--host, TSRUN_HOST, DOCKER_HOST), the command is sent to it: src/cli/client/.
  const daemon = daemonHost(process.argv.slice(2), process.env);
  const typed = daemon?.args ?? process.argv.slice(2);
  const shapes = [
    { name: 'run', valueOptions: valueOptionNames(containerOptions) },
    { name: 'create', valueOptions: valueOptionNames(containerOptions) },
    { name: 'exec', valueOptions: valueOptionNames(execOptions) },
    { name: 'top', valueOptions: new Set<string>() }, // after CONTAINER, ps's options: `tsrun top box -o pid,comm`
  ];
  const globalValueOptions = new Set(['root']);
  const { args, traceFlag } = takeTraceFlag(bareExplainAsText(markCommandTail(typed, shapes, globalValueOptions)));

  let tracing: Tracing | undefined;
  try {
    // The OpenTelemetry SDK is loaded only when --trace or OTEL_TRACES_EXPORTER asks for it.
    const tracingAsked = tracingRequest(process.env, traceFlag);
    if (tracingAsked) {
      // Tracing carries the active span across `await` with AsyncLocalStorage, whose hooks make every
      // promise slower (on Node 20): the code of `tsrun run`, the command traced most, is set up first.
      const name = commandName(args);
      // In the build, setup.js is a bundle of its own, tracing.cjs: the SDK, loaded with its code cache.
      const [{ startTracing }] = await Promise.all([import('../trace/setup.js'), name === 'run' ? loadRun() : undefined]);
      const commandAt = containerCommandAt(typed, shapes, globalValueOptions);
      tracing = await startTracing(tracingAsked, { name, args: typed, containerCommandAt: commandAt < 0 ? typed.length : commandAt });
    }
    const command = async () => {
      if (daemon) return (await import('./client/commands.js')).viaDaemon(daemon.host, args);
      const plainRun = parsePlainRun(args);
      const plainPull = plainRun ? undefined : parsePlainPull(args);
      const plainExec = plainRun || plainPull ? undefined : parsePlainExec(args);
      if (plainRun) await runHandler(plainRun);
      else if (plainPull) await pullHandler(plainPull);
      else if (plainExec) await execHandler(plainExec);
      else await parseWithYargs(args, (await import('./commands/index.js')).commands);
    };
    await (tracing ? tracing.root(command, exitCodeOf) : command());
  } catch (error) {
    if (process.env.TSRUN_DEBUG) console.error(error);
    process.stderr.write(formatError(error) + '\n');
    process.exitCode = exitCodeOf(error);
  }
  if (tracing) {
    const { settled, written } = await tracing.finish();
    if (written) sayOnStderr(`tsrun: trace written to ${written.jaeger} (Jaeger UI: Upload JSON) and ${written.otlp}\n`);
    // A collector that accepts and never answers must not keep tsrun alive: exit with the container's code.
    if (!settled) process.exit();
  }
}

/** `--explain` alone means `--explain=text`; written out, it can't swallow the image name as its value. */
function bareExplainAsText(args: string[]): string[] {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  return args.map((word, i) => (i < end && word === '--explain' ? '--explain=text' : word));
}

function valueOptionNames(options: Record<string, { type: string; alias?: string }>): Set<string> {
  const names = Object.entries(options).filter(([, o]) => o.type === 'string').flatMap(([name, o]) => [name, ...(o.alias ? [o.alias] : [])]);
  return new Set(names);
}

/** Have process[name] drop its write errors. Node makes the stream when it is first used, which takes a few
 *  milliseconds (a pipe's or terminal's modules are loaded then) that many runs never need: so, only then. */
function dropWriteErrors(name: 'stdout' | 'stderr'): void {
  const make = Object.getOwnPropertyDescriptor(process, name)?.get;
  if (!make) {
    process[name].on('error', () => {});
    return;
  }
  let stream: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: true,
    get: () => (stream ??= (make.call(process) as NodeJS.WriteStream).on('error', () => {})),
  });
}

/** One last line, written to file descriptor 2 itself: making process.stderr for it would cost a traced run
 *  the milliseconds dropWriteErrors saves. A reader that has gone away does not get it. */
function sayOnStderr(line: string): void {
  try {
    fs.writeSync(2, line);
  } catch {
    // EPIPE: nobody reads it
  }
}
