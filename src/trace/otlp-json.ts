// The OTLP/JSON encoding of traces (opentelemetry-proto's ExportTraceServiceRequest
// as JSON): what a collector receives over http/json, and what tsrun writes to
// traces/*.otlp.jsonl, one request per line. Only the fields tsrun reads.

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans: { scope?: { name: string; version?: string }; spans: OtlpSpan[] }[];
}

export interface OtlpSpan {
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind?: number;
  /** Nanoseconds since the epoch, as a decimal string (64 bits don't fit a JSON number). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  events?: { timeUnixNano: string; name: string; attributes?: OtlpKeyValue[] }[];
  /** code: 0 unset, 1 ok, 2 error. */
  status?: { code?: number; message?: string };
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}

export const STATUS_ERROR = 2;

/** An attribute's value as plain JavaScript: strings, numbers, booleans, arrays of them. */
export function plainValue(value: OtlpAnyValue): string | number | boolean | unknown[] {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plainValue);
  return '';
}

/** Every span of the requests, with the resource it came from. */
export function spansOf(requests: OtlpTraceRequest[]): { span: OtlpSpan; resource: OtlpKeyValue[] }[] {
  return requests.flatMap((request) => request.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ span, resource: rs.resource?.attributes ?? [] })))));
}

/** A .otlp.jsonl file's text: one ExportTraceServiceRequest per line. */
export function parseOtlpLines(text: string): OtlpTraceRequest[] {
  return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as OtlpTraceRequest);
}

/** A trace's shape: span names, indented under their parents, siblings in start order.
 *  What an example trace and a fresh one must share, whatever their timings. */
export function spanTreeLines(spans: OtlpSpan[]): string[] {
  const byStart = [...spans].sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  const ids = new Set(spans.map((s) => s.spanId));
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of byStart.filter((s) => (s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined) === parent)) {
      lines.push(`${'  '.repeat(depth)}${span.name}${span.status?.code === STATUS_ERROR ? ' (error)' : ''}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}
