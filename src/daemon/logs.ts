// GET /containers/{id}/logs?stdout=1&stderr=1[&tail=N][&timestamps=1][&since=T][&until=T][&follow=1]: what
// `tsrun logs` prints, as frames (stream.ts), from the json-file log the monitor writes; with follow, until the
// container exits. `docker logs` asks GET /containers/{id}/json first, for Config.Tty: it reads the frames so.
import fs from 'node:fs';
import { logPath, rotatedEntries, type LogEntry } from '../containers/logs.js';
import { lookUp } from './containers.js';
import { LogFollower, followRun, onTheWire, writeAll } from './stream.js';
import { badRequest, queryFlag, type DaemonRequest } from './http.js';

export async function logs(request: DaemonRequest): Promise<void> {
  const { runtime, runs, query, res, signal } = request;
  const container = await lookUp(request);
  const streams = new Set([queryFlag(query, 'stdout') && 'stdout', queryFlag(query, 'stderr') && 'stderr']);
  if (!streams.has('stdout') && !streams.has('stderr')) throw badRequest('Bad parameters: you must choose at least one stream');
  const tail = query.get('tail') ?? 'all';
  if (tail !== 'all' && tail !== '' && !/^\d+$/.test(tail)) throw badRequest(`invalid value for tail: "${tail}"`);
  const [since, until] = [unixTime(query, 'since'), unixTime(query, 'until')];
  const wanted = (entry: LogEntry) => streams.has(entry.stream)
    && (since === undefined || Date.parse(entry.time) >= since) && (until === undefined || Date.parse(entry.time) < until);
  const options = { tty: container.config.tty, timestamps: queryFlag(query, 'timestamps') };
  const send = (entries: LogEntry[]) => writeAll(res, entries.filter(wanted).map((entry) => onTheWire(entry, options)));

  res.writeHead(200, { 'Content-Type': options.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  const file = logPath(runtime.paths, container);
  // The current file through a descriptor, so that a follow goes on in it; the part rotated away, read as it is.
  const output = fs.existsSync(file) ? new LogFollower(file, 'start') : undefined;
  try {
    const written = [...rotatedEntries(file), ...(output?.read() ?? [])].filter(wanted);
    await send(tail === 'all' || tail === '' ? written : written.slice(Math.max(0, written.length - Number(tail))));
    const run = output && queryFlag(query, 'follow') ? await runs.current(container.id) : undefined;
    if (run) await followRun(output!, run, signal, send);
  } finally {
    output?.close();
  }
  res.end();
}

/** since= and until= are unix times in seconds, with a fraction if need be (0: not given); as milliseconds. */
function unixTime(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '' || text === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(text)) throw badRequest(`invalid value for ${name}: "${text}"`);
  return Number(text) * 1000;
}
