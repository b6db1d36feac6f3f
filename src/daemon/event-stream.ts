// GET /events: `docker events`, what events.ts keeps and is told, written a line each as it comes, filtered by
// dockerd's rules.
import { labelsMatch, type Filters } from '../docker/filters.js';
import { eventLine, nowNano, type DockerEvent } from './events.js';
import { badRequest, filtersIn, type DaemonRequest } from './http.js';

// #region events
/** GET /events[?since=SECONDS][&until=SECONDS][&filters=…]: 200 and its headers at once, then a line per event.
 *  With until, the answer ends then (at once if it has passed); without it, when the client goes away. */
export async function stream({ events, query, res, signal }: DaemonRequest): Promise<void> {
  const matches = eventFilter(filtersIn(query, 'events', SERVED_FILTERS, DOCKER_FILTERS));
  const since = timeParameter(query, 'since');
  const until = timeParameter(query, 'until');
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  await new Promise<void>((resolve) => {
    const write = (event: DockerEvent) => {
      if (until !== undefined && event.timeNano > until) return;
      if (matches(event)) res.write(eventLine(event));
    };
    const stop = events.follow(since, write);
    const end = () => {
      stop();
      clearTimeout(timer);
      signal.removeEventListener('abort', end);
      resolve();
    };
    const timer = until === undefined ? undefined : setTimeout(end, Math.max(0, Number((until - nowNano()) / 1_000_000n)));
    signal.addEventListener('abort', end, { once: true });
    if (signal.aborted) end();
  });
  res.end();
}
// #endregion

/** The filters dockerd 20.10 takes on events, and those tsrun filters by. */
const DOCKER_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'];
const SERVED_FILTERS = ['container', 'event', 'image', 'label', 'network', 'scope', 'type', 'volume'];

/** dockerd's rules: type, event and scope exactly; container, network and volume by the actor's id or name, or a
 *  prefix of either, and an event of another kind is let through only if its actor matches too; image by a
 *  container's image or an image event's actor; every label= among the actor's attributes. */
function eventFilter(filters: Filters): (event: DockerEvent) => boolean {
  const exact = (key: string, value: string) => !filters[key] || filters[key]!.includes(value);
  const fuzzy = (key: string, event: DockerEvent) => !filters[key] || filters[key]!.some((value) =>
    [event.Actor.ID, event.Actor.Attributes.name ?? ''].some((text) => text === value || (value !== '' && text.startsWith(value))));
  return (event) => exact('type', event.Type) && exact('event', event.Action) && exact('scope', event.scope)
    && fuzzy('container', event) && fuzzy('network', event) && fuzzy('volume', event)
    && (!filters.image || filters.image.some((value) => [event.Actor.Attributes.image, event.Actor.ID, event.Actor.Attributes.name].includes(value)))
    && labelsMatch(filters.label ?? [], event.Actor.Attributes);
}

/** ?since= and ?until=: seconds since 1970, with a fraction if the client sent one (the CLI turns `10m` and
 *  dates into these itself). */
function timeParameter(query: URLSearchParams, name: string): bigint | undefined {
  const text = query.get(name);
  if (!text) return undefined;
  const parts = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!parts) throw badRequest(`invalid value for ${name}: "${text}"`);
  return BigInt(parts[1]!) * 1_000_000_000n + BigInt((parts[2] ?? '').padEnd(9, '0'));
}
