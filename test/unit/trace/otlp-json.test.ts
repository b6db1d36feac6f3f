// tsrun writes the OTLP file from the SDK's spans itself (otlpRequestFromSpans); the OpenTelemetry
// library's own JSON serializer is the reference it must agree with, on spans using every field.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TraceState } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { otlpRequestFromSpans } from '../../../src/trace/otlp-json.js';

function finishedSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'tsrun', 'host.name': 'lab-3' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  // A caller's span, as TRACEPARENT and TRACESTATE hand it over.
  const caller = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED,
    isRemote: true, traceState: new TraceState('lab=7'),
  });
  const root = provider.getTracer('tsrun').startSpan('tsrun run', {
    attributes: { 'container.runtime.name': 'tsrun', 'process.command_args': ['tsrun', 'run'], 'process.pid': 42, 'tsrun.ratio': 0.5, 'tsrun.rm': true },
    startTime: [1_700_000_000, 5],
  }, caller);
  const pull = provider.getTracer('tsrun.registry', '1.2.3').startSpan('GET manifest', {
    kind: SpanKind.CLIENT,
    links: [{ context: root.spanContext(), attributes: { 'tsrun.why': 'retry' } }],
    startTime: [1_700_000_000, 123_456_789],
  }, trace.setSpan(ROOT_CONTEXT, root));
  pull.addEvent('retry', { 'http.response.status_code': 503 }, [1_700_000_000, 200_000_000]);
  pull.setStatus({ code: SpanStatusCode.ERROR, message: 'manifest unknown' });
  pull.end([1_700_000_001, 0]);
  root.end([1_700_000_002, 999_999_999]);
  return exporter.getFinishedSpans();
}

describe('otlpRequestFromSpans', () => {
  it('writes what the OpenTelemetry JSON serializer writes', () => {
    const spans = finishedSpans();
    const reference = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    expect(JSON.parse(JSON.stringify(otlpRequestFromSpans(spans)))).toEqual(reference);
  });

  it('keeps nanoseconds exact, ids in hex, and the remote parent in the flags', () => {
    const [pull, root] = otlpRequestFromSpans(finishedSpans()).resourceSpans[0]!.scopeSpans.flatMap((scope) => scope.spans).sort((a, b) => a.name.localeCompare(b.name));
    expect(pull!.startTimeUnixNano).toBe('1700000000123456789');
    expect(root!.startTimeUnixNano).toBe('1700000000000000005');
    expect(root!.parentSpanId).toBe('b7ad6b7169203331');
    expect(root!.flags).toBe(0x301);
    expect(pull!.flags).toBe(0x101);
    expect(pull!.kind).toBe(3);
  });
});
