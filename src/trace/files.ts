// `--trace[=PATH]` writes the command's trace twice, side by side:
//   NAME.otlp.jsonl   OTLP/JSON, one ExportTraceServiceRequest per line (the
//                     OpenTelemetry file exporter's format, what a collector receives)
//   NAME.jaeger.json  Jaeger's JSON, for Jaeger UI's "Upload JSON"
// `--trace` alone writes to ./traces/; `--trace=DIR` to DIR; `--trace=FILE.json`
// (or .jsonl) uses FILE as NAME.
import crypto from 'node:crypto';
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

// #region write-trace-files
// A trace is for its owner: it names paths, pids, the container's command. And tsrun runs as root,
// often with --trace=/tmp/…, where anyone may have put a symbolic link at that name beforehand.
export function writeTraceFiles(files: TraceFiles, requests: OtlpTraceRequest[]): void {
  fs.mkdirSync(path.dirname(files.otlp), { recursive: true, mode: 0o700 }); // only what it makes: a directory there stays as it is
  writePrivately(files.otlp, requests.map((request) => JSON.stringify(request) + '\n').join(''));
  writePrivately(files.jaeger, JSON.stringify(jaegerFromOtlp(requests), null, 2) + '\n');
}

/** Write `file`, mode 0600, as a new file beside it that is then renamed to its name. rename(2) replaces
 *  whatever is at `file`, a symbolic link too, and never follows it: the link's target is not touched. */
function writePrivately(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  // O_EXCL makes a new file or fails, and with O_NOFOLLOW never follows a link, even one that guessed the name.
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      fs.writeFileSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true }); // no half-written trace left behind
    throw error;
  }
}
// #endregion
