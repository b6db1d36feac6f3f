// The OTLP/JSON encoding of traces (opentelemetry-proto's ExportTraceServiceRequest
// as JSON): what a collector receives over http/json, and what tsrun writes to
// traces/*.otlp.jsonl, one request per line. The fields tsrun writes and reads.
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[]; droppedAttributesCount?: number };
  scopeSpans: { scope?: { name: string; version?: string }; spans: OtlpSpan[]; schemaUrl?: string }[];
  schemaUrl?: string;
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
  events?: { timeUnixNano: string; name: string; attributes?: OtlpKeyValue[]; droppedAttributesCount?: number }[];
  links?: { traceId: string; spanId: string; traceState?: string; attributes?: OtlpKeyValue[]; droppedAttributesCount?: number; flags?: number }[];
  /** code: 0 unset, 1 ok, 2 error. */
  status?: { code?: number; message?: string };
  traceState?: string;
  /** The W3C trace flags (1: sampled), plus 0x100: whether the parent was remote is known, 0x200: it was. */
  flags?: number;
  droppedAttributesCount?: number;
  droppedEventsCount?: number;
  droppedLinksCount?: number;
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

/** The SDK's finished spans as one request: grouped by resource, then by instrumentation scope; ids in
 *  hex, times as decimal strings of nanoseconds. The same as @opentelemetry/otlp-transformer's
 *  JsonTraceSerializer makes (a test holds the two together), but as an object: the serializer makes
 *  bytes, which the trace files would have to parse back to write the Jaeger file, and at the end of
 *  a traced `run` that round trip was a fifth of what tracing cost. */
export function otlpRequestFromSpans(spans: readonly ReadableSpan[]): OtlpTraceRequest {
  const byResource = new Map<ReadableSpan['resource'], Map<string, ReadableSpan[]>>();
  for (const span of spans) {
    const scopes = byResource.get(span.resource) ?? new Map<string, ReadableSpan[]>();
    byResource.set(span.resource, scopes);
    const { name, version = '', schemaUrl = '' } = span.instrumentationScope;
    const key = `${name}@${version}:${schemaUrl}`;
    const scopeSpans = scopes.get(key) ?? [];
    scopes.set(key, scopeSpans);
    scopeSpans.push(span);
  }
  return {
    resourceSpans: [...byResource].map(([resource, scopes]) => ({
      resource: { attributes: keyValues(resource.attributes), droppedAttributesCount: 0 },
      scopeSpans: [...scopes.values()].map((scopeSpans) => {
        const { name, version, schemaUrl } = scopeSpans[0]!.instrumentationScope;
        return { scope: { name, version }, spans: scopeSpans.map(otlpSpan), schemaUrl };
      }),
      schemaUrl: resource.schemaUrl || undefined,
    })),
  };
}

// #region otlp-span
function otlpSpan(span: ReadableSpan): OtlpSpan {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId || undefined,
    traceState: context.traceState?.serialize(),
    name: span.name,
    kind: span.kind + 1, // the API's kinds count from INTERNAL = 0, OTLP's from UNSPECIFIED = 0
    startTimeUnixNano: nanoseconds(span.startTime),
    endTimeUnixNano: nanoseconds(span.endTime),
    attributes: keyValues(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((event) => ({
      attributes: keyValues(event.attributes ?? {}),
      name: event.name,
      timeUnixNano: nanoseconds(event.time),
      droppedAttributesCount: event.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    status: { code: span.status.code, message: span.status.message },
    links: span.links.map((link) => ({
      attributes: keyValues(link.attributes ?? {}),
      spanId: link.context.spanId,
      traceId: link.context.traceId,
      traceState: link.context.traceState?.serialize(),
      droppedAttributesCount: link.droppedAttributesCount ?? 0,
      flags: spanFlags(link.context.traceFlags, link.context.isRemote),
    })),
    droppedLinksCount: span.droppedLinksCount,
    flags: spanFlags(context.traceFlags, span.parentSpanContext?.isRemote),
  };
}
// #endregion

const PARENT_REMOTE_KNOWN = 0x100;
const PARENT_REMOTE = 0x200;

function spanFlags(traceFlags: number, remote: boolean | undefined): number {
  return (traceFlags & 0xff) | PARENT_REMOTE_KNOWN | (remote ? PARENT_REMOTE : 0);
}

function keyValues(attributes: Attributes): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: AttributeValue | null | undefined): OtlpAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  return {};
}

/** [seconds, nanoseconds] as one decimal string of nanoseconds. */
function nanoseconds([seconds, nanos]: HrTime): string {
  return String(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
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
