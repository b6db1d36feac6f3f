// What every fuzz test asks of a parser fed untrusted input, whatever the input:
//   no crash   it returns, or throws a TsrunError whose message and hint are one line each
//   no hang    each call returns within a time bound (a hang that never returns is ended by
//              vitest's test timeout; this catches the slow-but-finishing kind, like a regex
//              that backtracks for seconds)
// and, in each test, that what it returns is right.
//
// Runs per property: a few in the unit suite, so test/unit/fuzz/ stays within ~20 s; many more
// when test/bench/fuzz.sh sets FUZZ_RUNS. fast-check prints the seed and the shrunk input of a
// failure; FUZZ_SEED replays that seed.
import { expect } from 'vitest';
import fc from 'fast-check';
import { TsrunError } from '../../../src/errors.js';

/** The unit suite's seed: its few runs are the same inputs every time, so a CI run fails only for a change of
 *  the code; the long run (FUZZ_RUNS) draws new inputs each time, which is how it finds what is new. */
const SUITE_SEED = 20261206;

export function fuzzOptions(shortRuns: number): fc.Parameters<unknown> {
  const runs = Number(process.env.FUZZ_RUNS);
  const seed = Number(process.env.FUZZ_SEED);
  if (Number.isInteger(seed) && process.env.FUZZ_SEED) return { numRuns: runs > 0 ? runs : shortRuns, seed };
  return runs > 0 ? { numRuns: runs } : { numRuns: shortRuns, seed: SUITE_SEED };
}

/** How long one call of a parser may take: far beyond any honest input's microseconds, far below a hang. */
export const CALL_LIMIT_MS = 1_000;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: TsrunError };

/** Call `parse` and check that it failed, if it did, the way tsrun fails. */
export function outcome<T>(parse: () => T): Outcome<T> {
  const started = performance.now();
  let result: Outcome<T>;
  try {
    result = { ok: true, value: parse() };
  } catch (error) {
    result = { ok: false, error: expectCleanError(error) };
  }
  expect(performance.now() - started, 'one call took too long').toBeLessThan(CALL_LIMIT_MS);
  return result;
}

/** The same for an async parser, bounded by `limitMs` (unpacking a tar writes files: it gets longer). */
export async function settled<T>(parse: () => Promise<T>, limitMs = 10 * CALL_LIMIT_MS): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs);
  });
  try {
    return { ok: true, value: await Promise.race([parse(), hang]) };
  } catch (error) {
    return { ok: false, error: expectCleanError(error) };
  } finally {
    clearTimeout(timer);
  }
}

function expectCleanError(error: unknown): TsrunError {
  if (!(error instanceof TsrunError)) throw new Error(`threw something other than a TsrunError: ${String(error)}`, { cause: error });
  expect(error.message, 'the message').toMatch(ONE_LINE);
  expect(error.hint ?? '', 'the hint').toMatch(ONE_LINE);
  // withContext makes a TsrunError of anything: a mistake of JavaScript's own inside is still a crash.
  // (Node's errors of these classes, for a bad argument, carry a code; the language's never do.)
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) {
    const crash = (cause instanceof TypeError || cause instanceof RangeError || cause instanceof ReferenceError) && !('code' in cause);
    if (crash) throw new Error(`a TsrunError made of a crash: ${String(cause)}`, { cause });
  }
  return error;
}

/** No character a terminal starts a new line at. */
const ONE_LINE = /^[^\r\n\v\f]*$/;

/** Strings made mostly of the pieces a grammar is built from (a fuzzer's dictionary), with some
 *  arbitrary text, control characters and line breaks among them: random characters alone would
 *  rarely get past a parser's first check. */
export function fromPieces(pieces: readonly string[], maxPieces = 10): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pieces) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\t', ' ', '\0', '"', '\\', '\u2028', 'é') },
  );
  return fc.array(piece, { maxLength: maxPieces }).map((parts) => parts.join(''));
}

/** Names a parser could find on every object's prototype, if it looked up a key with `in` or `[]`. */
export const PROTOTYPE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
