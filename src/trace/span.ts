// Every stage runs inside a span named `tsrun.<stage>`, opened by src/run.ts. Only the OpenTelemetry
// API is loaded here: until an SDK is registered (src/trace/setup.ts, only when
// tracing is asked for), spans are no-ops and cost next to nothing.
import { trace, isSpanContextValid, SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';

/** Wall-clock milliseconds with the fraction of the monotonic clock. The SDK's own default start
 *  time is Date.now(), whole milliseconds: too coarse for stages that take a few hundred µs. */
export const preciseNow = () => performance.timeOrigin + performance.now();

// #region in-span
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T> | T, kind = SpanKind.INTERNAL): Promise<T> {
  // Asked for on each span, not once: the provider registered by setup.ts may come and go (tests).
  return trace.getTracer('tsrun').startActiveSpan(name, { attributes, kind, startTime: preciseNow() }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end(preciseNow());
    }
  });
}
// #endregion

/** Attributes for the span the work runs in: how a stage, whose span src/run.ts opens, says what it found. */
export function annotate(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Whether the active span is being recorded: work done only for a trace can be skipped when it is not. */
export function recording(): boolean {
  return trace.getActiveSpan()?.isRecording() ?? false;
}

// #region recorded-span
/** A span for work tsrun could not watch as it ran (the child's steps, see child-spans.ts),
 *  made afterwards from its times: a child of the active span. */
export function recordSpan(name: string, attributes: Attributes, start: number, end: number, error?: string): void {
  const span = trace.getTracer('tsrun').startSpan(name, { attributes, startTime: start });
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end(end);
}
// #endregion

/** Turns CLOCK_MONOTONIC nanoseconds (process.hrtime, clock_gettime in the child) into the wall-clock
 *  milliseconds spans take, by reading both clocks once, now. */
export function monotonicToWallClock(): (nanoseconds: bigint) => number {
  const monotonicNow = process.hrtime.bigint();
  const wallClockNow = preciseNow();
  return (nanoseconds) => wallClockNow - Number(monotonicNow - nanoseconds) / 1e6;
}

// #region traceparent
/** TRACEPARENT (and TRACESTATE) for a process tsrun starts, naming the active span in the W3C
 *  trace-context format, so an instrumented program continues tsrun's trace — as BuildKit does
 *  for its steps. When tsrun is not tracing, the context it was given goes on as it came: a
 *  participant that records nothing still passes the caller's trace on (W3C Trace Context).
 *  Nothing when `env` already sets TRACEPARENT, or with TSRUN_NO_TRACEPARENT=1. */
export function traceContextEnv(env: string[]): string[] {
  if (process.env.TSRUN_NO_TRACEPARENT === '1' || env.some((entry) => entry.startsWith('TRACEPARENT='))) return [];
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    const flags = span.traceFlags.toString(16).padStart(2, '0');
    const state = span.traceState?.serialize();
    return [`TRACEPARENT=00-${span.traceId}-${span.spanId}-${flags}`, ...(state ? [`TRACESTATE=${state}`] : [])];
  }
  const given = process.env.TRACEPARENT;
  if (given === undefined || !TRACEPARENT_FORMAT.test(given)) return [];
  return [`TRACEPARENT=${given}`, ...(process.env.TRACESTATE ? [`TRACESTATE=${process.env.TRACESTATE}`] : [])];
}

/** version-traceid-parentid-flags, lowercase hex: what a participant may pass on. */
const TRACEPARENT_FORMAT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
// #endregion
