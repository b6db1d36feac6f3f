// The OTLP exporter, as OTEL_EXPORTER_OTLP_* configure it: over HTTP (protobuf or JSON, port 4318)
// or gRPC (port 4317). A file of its own so that `--trace` alone (files only) doesn't load the
// exporters; the gRPC one, with its gRPC library, is loaded only when asked for.
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** How long tsrun waits for a collector at exit unless OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT says otherwise. */
export const DEFAULT_EXPORT_TIMEOUT_MS = 2000;

export interface OtlpExporter {
  exporter: SpanExporter;
  url: string;
  timeoutMs: number;
  /** Why exports failed, in order: the first is what the warning says. */
  failures: string[];
}

type Protocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: Protocol[] = ['http/protobuf', 'http/json', 'grpc'];

/** The OTLP exporter for OTEL_EXPORTER_OTLP_PROTOCOL, watched so that a failure can be reported once. */
export async function otlpExporter(env: NodeJS.ProcessEnv, warnings: string[]): Promise<OtlpExporter | undefined> {
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim() as Protocol;
  if (!PROTOCOLS.includes(protocol)) {
    warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported — use http/protobuf, http/json (port 4318) or grpc (port 4317)`);
    return undefined;
  }
  const url = otlpTracesUrl(env, protocol);
  const timeoutMs = exportTimeoutMs(env);
  // Headers (OTEL_EXPORTER_OTLP_HEADERS, …_TRACES_HEADERS) are read by the exporter itself.
  const OTLPTraceExporter = protocol === 'grpc' ? (await import('./otlp-grpc.js')).OTLPTraceExporter
    : protocol === 'http/json' ? OTLPJsonExporter : OTLPProtobufExporter;
  const inner = new OTLPTraceExporter({ url, timeoutMillis: timeoutMs });
  const failures: string[] = [];
  const exporter: SpanExporter = {
    export: (spans, done) => inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) failures.push(exportErrorText(result.error));
      done(result);
    }),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
  return { exporter, url, timeoutMs, failures };
}

/** Where traces go, as the OTLP exporter specification says: the signal's own endpoint as given,
 *  or the general endpoint (over HTTP, with /v1/traces appended), or a collector on this machine. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv, protocol: Protocol): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (protocol === 'grpc') return env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4317';
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function exportTimeoutMs(env: NodeJS.ProcessEnv): number {
  const configured = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_EXPORT_TIMEOUT_MS;
}

/** ECONNREFUSED and the like for HTTP. gRPC's errors carry a numeric status and say it in their message
 *  ("14 UNAVAILABLE: No connection established. … Resolution note: "), whose empty last part goes. */
function exportErrorText(error: Error | undefined): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error?.message.replace(/\s*Resolution note:\s*$/, '') ?? 'export failed';
}
