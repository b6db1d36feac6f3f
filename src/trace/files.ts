// `--trace[=PATH]` writes the command's trace twice, side by side:
//   NAME.otlp.jsonl   OTLP/JSON, one ExportTraceServiceRequest per line (the
//                     OpenTelemetry file exporter's format, what a collector receives)
//   NAME.jaeger.json  Jaeger's JSON, for Jaeger UI's "Upload JSON"
// `--trace` alone writes to ./traces/; `--trace=DIR` to DIR; `--trace=FILE.json`
// (or .jsonl) uses FILE as NAME.
import fs from 'node:fs';
import path from 'node:path';
import { jaegerFromOtlp } from './jaeger.js';
import type { OtlpTraceRequest } from './otlp-json.js';

export interface TraceFiles {
  otlp: string;
  jaeger: string;
}

const SUFFIXES = ['.otlp.jsonl', '.jaeger.json', '.jsonl', '.json'];

export function traceFilePaths(flag: string, command: string, traceId: string, startedAt: Date): TraceFiles {
  const suffix = SUFFIXES.find((s) => flag.endsWith(s));
  // tsrun-run-20250102T030405Z-4bf92f35: sorted by time, and unique thanks to the trace id.
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = suffix ? flag.slice(0, -suffix.length) : path.join(flag || 'traces', `tsrun-${command}-${stamp}-${traceId.slice(0, 8)}`);
  return { otlp: `${base}.otlp.jsonl`, jaeger: `${base}.jaeger.json` };
}

export function writeTraceFiles(files: TraceFiles, requests: OtlpTraceRequest[]): void {
  fs.mkdirSync(path.dirname(files.otlp), { recursive: true });
  fs.writeFileSync(files.otlp, requests.map((request) => JSON.stringify(request) + '\n').join(''));
  fs.writeFileSync(files.jaeger, JSON.stringify(jaegerFromOtlp(requests), null, 2) + '\n');
}
