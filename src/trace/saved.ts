// Traces saved by `--trace` (or downloaded from Jaeger), read back for
// `tsrun trace show` and `tsrun trace ls`. Both file formats become the same
// plain spans: times in microseconds, attributes as plain values, and the
// status message of a span that failed.
import fs from 'node:fs';
import path from 'node:path';
import { fail } from '../errors.js';
import type { JaegerFile, JaegerTag } from './jaeger.js';
import { STATUS_ERROR, parseOtlpLines, plainValue, spansOf, type OtlpTraceRequest } from './otlp-json.js';

export interface SavedSpan {
  spanId: string;
  /** Absent for a root span; may name a span outside the file (a caller's, from TRACEPARENT). */
  parentSpanId?: string;
  name: string;
  /** Microseconds since the epoch. */
  start: number;
  /** Microseconds. */
  duration: number;
  attributes: Record<string, unknown>;
  /** Set when the span failed: its status message ('' when it has none). */
  error?: string;
}

export interface SavedTrace {
  traceId: string;
  serviceName: string;
  spans: SavedSpan[];
}

/** The traces in a saved file, whichever of the two formats it is in. */
export function readTraceFile(file: string): SavedTrace[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'give a file written by `tsrun --trace`, e.g. one of `tsrun trace ls`');
  }
  try {
    return parseTraceText(text);
  } catch (error) {
    throw fail(`${file} is not a trace: ${(error as Error).message}`, 'give a .otlp.jsonl or .jaeger.json file written by `tsrun --trace`');
  }
}

/** Jaeger JSON (`{"data": [...]}`) or OTLP JSON, one ExportTraceServiceRequest per line. */
export function parseTraceText(text: string): SavedTrace[] {
  const whole = parseWhole(text);
  if (whole && Array.isArray((whole as JaegerFile).data)) return tracesFromJaeger(whole as JaegerFile).filter((trace) => trace.spans.length > 0);
  const requests = whole ? [whole as OtlpTraceRequest] : parseOtlpLines(text);
  if (!requests.every((request) => Array.isArray(request?.resourceSpans))) throw new Error('neither Jaeger JSON nor OTLP JSON lines');
  return tracesFromOtlp(requests);
}

function parseWhole(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // several lines of OTLP JSON
  }
}

function tracesFromOtlp(requests: OtlpTraceRequest[]): SavedTrace[] {
  const traces = new Map<string, SavedTrace>();
  for (const { span, resource } of spansOf(requests)) {
    const serviceName = resource.find((kv) => kv.key === 'service.name');
    const trace = traces.get(span.traceId) ?? { traceId: span.traceId, serviceName: String(serviceName ? plainValue(serviceName.value) : 'unknown_service'), spans: [] };
    traces.set(span.traceId, trace);
    const start = BigInt(span.startTimeUnixNano);
    trace.spans.push({
      spanId: span.spanId,
      ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
      name: span.name,
      start: Number(start / 1000n),
      duration: Number((BigInt(span.endTimeUnixNano) - start) / 1000n),
      attributes: Object.fromEntries((span.attributes ?? []).map((kv) => [kv.key, plainValue(kv.value)])),
      ...(span.status?.code === STATUS_ERROR ? { error: span.status.message ?? '' } : {}),
    });
  }
  return [...traces.values()];
}

/** Tags jaeger.ts adds to say what OTLP says in other fields: not attributes of the span. */
const JAEGER_STATUS_TAGS = ['span.kind', 'error', 'otel.status_code', 'otel.status_description'];

function tracesFromJaeger(file: JaegerFile): SavedTrace[] {
  return file.data.map((trace) => ({
    traceId: trace.traceID,
    serviceName: Object.values(trace.processes ?? {})[0]?.serviceName ?? 'unknown_service',
    spans: trace.spans.map((span): SavedSpan => {
      const tag = (key: string) => span.tags.find((t) => t.key === key)?.value;
      const parent = span.references?.find((ref) => ref.refType === 'CHILD_OF')?.spanID;
      return {
        spanId: span.spanID,
        ...(parent ? { parentSpanId: parent } : {}),
        name: span.operationName,
        start: span.startTime,
        duration: span.duration,
        attributes: Object.fromEntries(span.tags.filter((t) => !JAEGER_STATUS_TAGS.includes(t.key)).map((t) => [t.key, tagValue(t)])),
        ...(tag('error') === true ? { error: String(tag('otel.status_description') ?? '') } : {}),
      };
    }),
  }));
}

/** Jaeger tags have no lists: jaeger.ts writes them as JSON text, read back here as lists. */
function tagValue(tag: JaegerTag): unknown {
  if (tag.type !== 'string' || !String(tag.value).startsWith('[')) return tag.value;
  try {
    return JSON.parse(String(tag.value)) as unknown;
  } catch {
    return tag.value; // a string that only starts like a list
  }
}

/** The spans whose parent is not in the trace: usually one, `tsrun <command>`. */
export function rootSpans(trace: SavedTrace): SavedSpan[] {
  const ids = new Set(trace.spans.map((s) => s.spanId));
  return trace.spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
}

/** The earliest start and the latest end of any span, in microseconds since the epoch. */
export function traceExtent(trace: SavedTrace): { start: number; end: number } {
  return {
    start: Math.min(...trace.spans.map((s) => s.start)),
    end: Math.max(...trace.spans.map((s) => s.start + s.duration)),
  };
}

/** One line of `tsrun trace ls`. */
export interface TraceListing {
  file: string;
  /** Microseconds since the epoch. */
  start: number;
  root: string;
  /** Microseconds. */
  duration: number;
  spans: number;
  /** ok; exit N (the command ran and failed); error: MESSAGE (a span failed). */
  status: string;
}

/** The trace files under `dir` (and its subdirectories), by name. A trace saved in both formats
 *  (NAME.otlp.jsonl and NAME.jaeger.json) is there once, by its OTLP file. */
export function traceFilesIn(dir: string): string[] {
  const names = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
  const otlp = names.filter((name) => name.endsWith('.otlp.jsonl'));
  const jaegerOnly = names.filter((name) => name.endsWith('.jaeger.json') && !otlp.includes(name.replace(/\.jaeger\.json$/, '.otlp.jsonl')));
  return [...otlp, ...jaegerOnly].sort().map((name) => path.join(dir, name));
}

/** The traces saved under `dir` (and its subdirectories), oldest first, each once (traceFilesIn). */
export function listSavedTraces(dir: string, warn: (message: string) => void): TraceListing[] {
  const listings: TraceListing[] = [];
  for (const file of traceFilesIn(dir)) {
    try {
      listings.push(...readTraceFile(file).map((trace) => listingOf(file, trace)));
    } catch (error) {
      warn((error as Error).message);
    }
  }
  return listings.sort((a, b) => a.start - b.start);
}

export function listingOf(file: string, trace: SavedTrace): TraceListing {
  const roots = rootSpans(trace);
  const root = roots[0];
  const extent = traceExtent(trace);
  const failed = roots.find((s) => s.error !== undefined) ?? trace.spans.find((s) => s.error !== undefined);
  const exitCode = root?.attributes['process.exit.code'];
  const status = failed ? `error: ${failed.error || failed.name}` : exitCode !== undefined && exitCode !== 0 ? `exit ${exitCode}` : 'ok';
  return { file, start: extent.start, root: root?.name ?? '', duration: extent.end - extent.start, spans: trace.spans.length, status };
}

/** 512 µs, 1.25 ms, 74.2 ms, 3.40 s: three significant digits, the unit that fits. */
export function formatMicroseconds(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  const [value, unit] = us < 1_000_000 ? [us / 1000, 'ms'] : [us / 1_000_000, 's'];
  return `${value >= 100 ? Math.round(value) : value.toPrecision(3)} ${unit}`;
}
