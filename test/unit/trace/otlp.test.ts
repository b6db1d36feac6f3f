// Where the OTLP exporter sends traces, by protocol, as the exporter specification says.
import { describe, expect, it } from 'vitest';
import { otlpTracesUrl } from '../../../src/trace/otlp.js';

describe('otlpTracesUrl', () => {
  it('appends /v1/traces to the general endpoint over HTTP, and takes the signal endpoint as it is', () => {
    expect(otlpTracesUrl({}, 'http/protobuf')).toBe('http://localhost:4318/v1/traces');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'http/json')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/traces' }, 'http/json')).toBe('http://b/traces');
  });

  it('uses the general endpoint as it is over gRPC, port 4317 by default', () => {
    expect(otlpTracesUrl({}, 'grpc')).toBe('http://localhost:4317');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' }, 'grpc')).toBe('http://collector:4317');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4317' }, 'grpc')).toBe('http://b:4317');
  });
});
