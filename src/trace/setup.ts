// Tracing switched on: the OpenTelemetry SDK behind the spans of src/trace/span.ts.
// main.ts imports this file only when request.ts says a command is traced, so
// everything here — SDK, exporters, serialisers — costs a plain run nothing.
//
// One root span per command (`tsrun run`), continuing the caller's trace when
// TRACEPARENT is set; the stages' `tsrun.<stage>` spans nest under it. At the
// end the spans go to the files `--trace` asked for, and to the exporters of
// OTEL_TRACES_EXPORTER, waiting for a collector no longer than a bound.
import { ROOT_CONTEXT, context, defaultTextMapGetter, propagation, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { inSpan } from './span.js';
import { traceFilePaths, writeTraceFiles, type TraceFiles } from './files.js';
import { otlpRequestFromSpans } from './otlp-json.js';
import { redactArgs } from './redact.js';
import type { TracingRequest } from './request.js';

export interface Tracing {
  /** Run the whole command inside its root span, `tsrun <command>`. `exitCodeOf` says what tsrun exits with
   *  when `work` throws: the caller's, because this file is bundled apart from it (tracing.cjs), and
   *  its own copy of errors.ts would not recognise the caller's errors. */
  root<T>(work: () => Promise<T>, exitCodeOf: (error: unknown) => number): Promise<T>;
  /** Write the trace files and flush the exporters. `settled` is false when a collector did not answer
   *  in time: its request may still be open, and the caller should exit rather than wait for it. */
  finish(): Promise<{ settled: boolean; written: TraceFiles | undefined }>;
}

/** The command being traced, as typed. */
export interface TracedCommand {
  /** `run`: the root span is `tsrun run`. */
  name: string;
  /** The words after `tsrun`; the root span records them without their secrets (redact.ts). */
  args: string[];
  /** Where the container's command begins in `args` (args.length if nowhere): those words stay as typed. */
  containerCommandAt: number;
}

export async function startTracing(request: TracingRequest, command: TracedCommand, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  const warnings: string[] = [];
  const startedAt = new Date();

  // #region setup
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'tsrun' })
    .merge(detectResources({ detectors: [envDetector] })); // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
  const files = request.file !== undefined ? new KeptSpans() : undefined;
  const otlp = request.exporters.includes('otlp') ? await (await import('./otlp.js')).otlpExporter(env, warnings) : undefined;
  const otlpProcessor = otlp && new BatchSpanProcessor(otlp.exporter);
  const consoleProcessor = request.exporters.includes('console') ? new SimpleSpanProcessor(new ConsoleSpanExporter()) : undefined;
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [files, otlpProcessor, consoleProcessor].filter((p) => p !== undefined),
  });
  trace.setGlobalTracerProvider(provider);
  // Parent and child spans find each other across `await` through AsyncLocalStorage.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // A CI job or a lab checker that runs tsrun inside its own trace hands it over as TRACEPARENT; a client of
  // `tsrun daemon`, as a traceparent header, which the daemon reads through the global propagator.
  const propagator = new W3CTraceContextPropagator();
  propagation.setGlobalPropagator(propagator);
  const parent: Context = propagator.extract(ROOT_CONTEXT, { traceparent: env.TRACEPARENT, tracestate: env.TRACESTATE }, defaultTextMapGetter);
  // #endregion

  let traceId = '';
  return {
    root: (work, exitCodeOf) => context.with(parent, () => inSpan(`tsrun ${command.name}`, {
      'container.runtime.name': 'tsrun',
      // The command as typed, each secret in it replaced by <redacted>: `-e DB_PASSWORD=<redacted>`.
      'process.command_args': ['tsrun', ...redactArgs(command.args, command.containerCommandAt)],
    }, async (span) => {
      traceId = span.spanContext().traceId;
      try {
        const result = await work();
        span.setAttribute('process.exit.code', Number(process.exitCode ?? 0));
        return result;
      } catch (error) {
        span.setAttribute('process.exit.code', exitCodeOf(error)); // what tsrun is about to exit with
        throw error;
      }
    })),

    async finish() {
      let written: TraceFiles | undefined;
      // Files first: they never depend on a collector being up.
      if (files) {
        const { spans } = files;
        const otlpRequest = otlpRequestFromSpans(spans);
        const paths = traceFilePaths(request.file ?? '', command.name, traceId || spans[0]?.spanContext().traceId || '0', startedAt);
        try {
          writeTraceFiles(paths, [otlpRequest]);
          written = paths;
        } catch (error) {
          // Like a collector that is down: a warning, and the command's exit code stays its own.
          warnings.push(`could not write the trace to ${paths.otlp}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
      }
      let settled = true;
      if (otlp && otlpProcessor) {
        settled = await withinTime(otlpProcessor.forceFlush().catch(() => undefined), otlp.timeoutMs);
        if (!settled) otlp.failures.push(`no answer within ${otlp.timeoutMs} ms`);
        if (otlp.failures.length) {
          warnings.push(`could not export the trace to ${otlp.url}: ${otlp.failures[0]} — is a collector listening there? (OTEL_EXPORTER_OTLP_ENDPOINT)`);
        }
      }
      for (const warning of warnings) process.stderr.write(`tsrun: tracing: ${warning}\n`);
      if (settled) await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      return { settled, written };
    },
  };
}

/** Every span that ends, kept for the trace files, which are written once the command is over. */
class KeptSpans implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void { this.spans.push(span); }
  forceFlush(): Promise<void> { return Promise.resolve(); }
  shutdown(): Promise<void> { return Promise.resolve(); }
}

/** True if `work` settled within `ms`. */
function withinTime(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    work.then(() => { clearTimeout(timer); resolve(true); });
  });
}
