// Is this command traced? Decided from the `--trace` flag and the standard
// OpenTelemetry environment before anything heavy is loaded: this file imports
// nothing, so main.ts can ask on every start and a plain run pays nothing.
//
// Unlike the OpenTelemetry SDKs, whose default exporter is `otlp`, tsrun traces
// only when asked to: a class running hundreds of containers should not find
// each run trying to reach a collector that isn't there.

export type ExporterName = 'otlp' | 'console';

export interface TracingRequest {
  /** `--trace` was given: '' writes to ./traces/, anything else names a directory or a file. */
  file: string | undefined;
  /** The exporters OTEL_TRACES_EXPORTER asks for. */
  exporters: ExporterName[];
}

const KNOWN_EXPORTERS = ['otlp', 'console', 'none'];

/** Take the global `--trace` / `--trace=PATH` out of the arguments, before the container's command (`--`). */
export function takeTraceFlag(args: string[]): { args: string[]; traceFlag: string | undefined } {
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  let traceFlag: string | undefined;
  const rest = args.filter((word, i) => {
    if (i >= end || (word !== '--trace' && !word.startsWith('--trace='))) return true;
    traceFlag = word.slice('--trace='.length); // '' for a bare --trace
    return false;
  });
  return { args: rest, traceFlag };
}

/** What tracing the flag and the environment ask for; undefined when none (the usual case).
 *  A mistake in the environment is a warning: tracing never stops a command. */
export function tracingRequest(
  env: NodeJS.ProcessEnv, traceFlag: string | undefined,
  warn = (message: string) => { process.stderr.write(`tsrun: tracing: ${message}\n`); },
): TracingRequest | undefined {
  // The flag is typed for this one command, so it wins over OTEL_SDK_DISABLED in the environment.
  const sdkDisabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const names = sdkDisabled ? [] : (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  for (const name of names.filter((n) => !KNOWN_EXPORTERS.includes(n))) {
    warn(`OTEL_TRACES_EXPORTER=${name} is not an exporter tsrun knows — use otlp, console or none`);
  }
  const exporters = names.includes('none') ? [] : [...new Set(names.filter((n): n is ExporterName => n === 'otlp' || n === 'console'))];
  if (exporters.length === 0 && traceFlag === undefined) return undefined;
  return { file: traceFlag, exporters };
}

/** The command's name for the root span (`tsrun run`): the first word that is not an option. */
export function commandName(args: string[]): string {
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const word = args[i]!;
    if (word === '--root') i++; // the only global option that takes the next word as its value
    else if (!word.startsWith('-')) return word;
  }
  return 'help';
}
