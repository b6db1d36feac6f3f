// The same trace in Jaeger's JSON, the format of Jaeger's own API
// (/api/traces/ID), which its UI opens from "Upload JSON" / "JSON File":
// microseconds instead of nanoseconds, references instead of parent ids,
// typed tags instead of attributes, and the resource as a "process".
import { STATUS_ERROR, plainValue, spansOf, type OtlpKeyValue, type OtlpTraceRequest } from './otlp-json.js';

export interface JaegerFile {
  data: JaegerTrace[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF'; traceID: string; spanID: string }[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
  warnings: null;
}

export interface JaegerTag {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | number | boolean;
}

const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

export function jaegerFromOtlp(requests: OtlpTraceRequest[]): JaegerFile {
  const traces = new Map<string, JaegerTrace>();
  for (const { span, resource } of spansOf(requests)) {
    const trace = traces.get(span.traceId) ?? { traceID: span.traceId, spans: [], processes: {} };
    traces.set(span.traceId, trace);
    const processID = processIdFor(trace, resource);
    const start = BigInt(span.startTimeUnixNano);
    const failed = span.status?.code === STATUS_ERROR;
    trace.spans.push({
      traceID: span.traceId,
      spanID: span.spanId,
      operationName: span.name,
      // A root span continuing a caller's trace (TRACEPARENT) points at a span of that caller.
      references: span.parentSpanId ? [{ refType: 'CHILD_OF', traceID: span.traceId, spanID: span.parentSpanId }] : [],
      startTime: microseconds(start),
      duration: microseconds(BigInt(span.endTimeUnixNano) - start),
      tags: [
        ...tagsOf(span.attributes ?? []),
        { key: 'span.kind', type: 'string', value: SPAN_KINDS[span.kind ?? 1] ?? 'internal' },
        // Jaeger's UI marks a span red by its `error` tag.
        ...(failed ? [{ key: 'error', type: 'bool', value: true } as JaegerTag, { key: 'otel.status_code', type: 'string', value: 'ERROR' } as JaegerTag] : []),
        ...(failed && span.status?.message ? [{ key: 'otel.status_description', type: 'string', value: span.status.message } as JaegerTag] : []),
      ],
      logs: (span.events ?? []).map((event) => ({
        timestamp: microseconds(BigInt(event.timeUnixNano)),
        fields: [{ key: 'event', type: 'string', value: event.name }, ...tagsOf(event.attributes ?? [])],
      })),
      processID,
      warnings: null,
    });
  }
  return { data: [...traces.values()] };
}

/** The resource becomes a "process" (p1, p2, …): its service.name and the other attributes as tags. */
function processIdFor(trace: JaegerTrace, resource: OtlpKeyValue[]): string {
  const serviceName = String(plainValue(resource.find((kv) => kv.key === 'service.name')?.value ?? { stringValue: 'unknown_service' }));
  const tags = tagsOf(resource.filter((kv) => kv.key !== 'service.name'));
  const same = Object.entries(trace.processes).find(([, p]) => p.serviceName === serviceName && JSON.stringify(p.tags) === JSON.stringify(tags));
  if (same) return same[0];
  const id = `p${Object.keys(trace.processes).length + 1}`;
  trace.processes[id] = { serviceName, tags };
  return id;
}

function tagsOf(attributes: OtlpKeyValue[]): JaegerTag[] {
  return attributes.map(({ key, value }): JaegerTag => {
    if (value.boolValue !== undefined) return { key, type: 'bool', value: value.boolValue };
    if (value.intValue !== undefined) return { key, type: 'int64', value: Number(value.intValue) };
    if (value.doubleValue !== undefined) return { key, type: 'float64', value: value.doubleValue };
    if (value.arrayValue) return { key, type: 'string', value: JSON.stringify(plainValue(value)) }; // Jaeger tags have no arrays
    return { key, type: 'string', value: value.stringValue ?? '' };
  });
}

function microseconds(nanoseconds: bigint): number {
  return Number(nanoseconds / 1000n);
}
