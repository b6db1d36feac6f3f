// Docker's ?filters= on a list or a prune, {"KEY": {"VALUE": true}}, and its rules for matching: a name or id
// against a pattern (`name=web`), labels against `label=KEY` or `label=KEY=VALUE`, an image name against a
// `reference` filter (`docker images busybox`, `docker images 'demo/*:1'`).
import { familiarString, type ImageReference } from '../image/reference.js';
import { fail } from '../errors.js';

export type Filters = Record<string, string[]>;

/** The filters' values by key; a text that is not that shape is refused. '' and {} are no filter. The older
 *  shape, {"KEY": ["VALUE", …]}, which docker-compose 1 still sends, is read too, as dockerd reads it. */
export function parseFilters(text: string | null): Filters {
  let value: unknown;
  try {
    value = JSON.parse(text || '{}');
  } catch {
    value = undefined;
  }
  const valid = value !== null && typeof value === 'object' && !Array.isArray(value)
    && Object.values(value).every((values) => values !== null && typeof values === 'object'
      && (!Array.isArray(values) || values.every((item) => typeof item === 'string')));
  if (!valid) throw fail(`invalid filters: ${text}`, 'write them as {"KEY": {"VALUE": true}}');
  return Object.fromEntries(Object.entries(value as Record<string, object>).map(([key, values]) => [key, Array.isArray(values) ? values : Object.keys(values)]));
}

/** Docker's Match: any of the values, each a regular expression found anywhere in the text (name=web matches
 *  "webserver"), or the text itself; a value that is no valid expression matches only itself. */
export function patternMatches(values: string[], text: string): boolean {
  return values.some((value) => {
    if (value === text) return true;
    try {
      return new RegExp(value).test(text);
    } catch {
      return false;
    }
  });
}

/** Docker's MatchKVList: every label=KEY names a label the object has, every label=KEY=VALUE one it has with
 *  that value. */
export function labelsMatch(values: string[], labels: Record<string, string>): boolean {
  return values.every((value) => {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    return Object.hasOwn(labels, key) && (eq < 0 || labels[key] === value.slice(eq + 1));
  });
}

/** Docker's FamiliarMatch: the pattern, a shell-like glob (Go's path.Match: `*` and `?` stop at a "/"), against
 *  the name as docker writes it with its tag or digest (busybox:latest), else against the name alone (busybox). */
export function referenceMatches(pattern: string, reference: ImageReference): boolean {
  const glob = globRegExp(pattern);
  return glob.test(familiarString(reference)) || glob.test(reference.familiar);
}

function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '\\' && i + 1 < pattern.length) source += escape(pattern[++i]!);
    else if (char === '[' && pattern.indexOf(']', i + 1) > i + 1) {
      const end = pattern.indexOf(']', i + 1);
      const body = pattern.slice(i + 1, end);
      source += `[${body.startsWith('^') ? `^/${body.slice(1)}` : body}]`; // Go negates with ^, and never matches "/"
      i = end;
    } else source += escape(char);
  }
  return new RegExp(`^${source}$`);
}

const escape = (char: string) => char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Docker's GetTimestamp, for an `until` filter: a Go duration before `now` (`24h`, `1h30m`, `90s`), seconds since
 *  1970 (`1700000000`, `1700000000.5`), or a date and time (`2026-11-23`, `2026-11-23T12:00:00Z`); in ms since 1970. */
export function timestampValue(text: string, now: number): number {
  if (/^[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$/.test(text)) {
    const sign = text.startsWith('-') ? -1 : 1;
    const ms = [...text.matchAll(/(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)/g)]
      .reduce((total, [, amount, unit]) => total + Number(amount) * DURATION_MS[unit!]!, 0);
    return now - sign * ms;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) throw fail(`invalid timestamp "${text}"`, 'give a duration (24h, 10m), seconds since 1970, or a time like 2026-11-23T12:00:00Z');
  return date;
}

const DURATION_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
