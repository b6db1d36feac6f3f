// The OTLP/gRPC exporter, in a file of its own so that otlp.ts can load it (and the gRPC library under
// it, a megabyte of JavaScript) only when OTEL_EXPORTER_OTLP_PROTOCOL=grpc asks for it.
export { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
