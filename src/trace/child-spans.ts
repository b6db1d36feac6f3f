// Between clone and execve no JavaScript runs: the container's child performs
// its steps in C++ (native/src/spawn.cc) and notes when each began. Afterwards,
// tsrun turns those times into spans under tsrun.exec: one for clone, one per
// named run of steps (the `{ span }` names of src/kernel/steps.ts).
import type { Attributes } from '@opentelemetry/api';
import { describeStep, type ChildStep, type StepSpan } from '../kernel/steps.js';
import { monotonicToWallClock, recordSpan, recording } from './span.js';

/** A span with CLOCK_MONOTONIC nanoseconds for its start and end. */
export interface TimedSpan {
  name: string;
  start: bigint;
  end: bigint;
  attributes: Attributes;
  failed: boolean;
}

export interface ChildTimeline {
  /** SpawnedChild.times: [0] clone called, [1] child began, [2 + i] step i began (0: never). */
  times: BigInt64Array;
  steps: ChildStep[];
  spans: StepSpan[];
  cloneFlags: string[];
  /** When tsrun saw the status pipe close or a failure arrive: the end of the last step that began. */
  reportedAt: bigint;
  /** The step that failed, if one did. */
  failedStep?: number;
}

const CLONE = 0;
const CHILD_BEGAN = 1;
const FIRST_STEP = 2;

// #region child-spans
export function childSpans({ times, steps, spans, cloneFlags, reportedAt, failedStep }: ChildTimeline): TimedSpan[] {
  const at = (slot: number) => times[slot] ?? 0n;
  // After a failed step, its slot-after holds when it ended: no later step began.
  const began = (step: number) => at(FIRST_STEP + step) !== 0n && (failedStep === undefined || step <= failedStep);
  if (at(CHILD_BEGAN) === 0n) return []; // the child never ran (it was killed at once)
  const clone: TimedSpan = { name: 'tsrun.child.clone', start: at(CLONE), end: at(CHILD_BEGAN), attributes: { 'tsrun.namespaces': cloneFlags }, failed: false };
  const named = spans.flatMap(({ name, first, count }): TimedSpan[] => {
    const begun = steps.slice(first, first + count).filter((_, i) => began(first + i));
    if (begun.length === 0) return [];
    // A step ends when the next begins; the last one that began ends at the latest time written after
    // it (a failure's), or, if none was, when tsrun heard from the child: execve had replaced it, by
    // tsrun-exec, which starts the command or reports its failure but cannot write these times.
    const after = Array.from({ length: count }, (_, i) => at(FIRST_STEP + first + count - i)).find((t) => t !== 0n);
    return [{
      name,
      start: at(FIRST_STEP + first),
      end: after ?? reportedAt,
      attributes: { 'tsrun.child.steps': begun.map(describeStep) },
      failed: failedStep !== undefined && failedStep >= first && failedStep < first + count,
    }];
  });
  return [clone, ...named];
}
// #endregion

/** The child's steps as spans under the active one (tsrun.exec), made now from the times the child noted. */
export function recordChildSpans(timeline: ChildTimeline, error?: string): void {
  if (!recording()) return;
  const wallClock = monotonicToWallClock();
  for (const s of childSpans(timeline)) recordSpan(s.name, s.attributes, wallClock(s.start), wallClock(s.end), s.failed ? error : undefined);
}
