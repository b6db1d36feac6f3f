// What the daemon did, as Docker's events: `docker events` streams them as they happen (event-stream.ts), and
// with --since first the ones it already told (the last 256 are kept, as dockerd keeps them). Each is
//   {"Type": "container", "Action": "die", "Actor": {"ID": …, "Attributes": {"exitCode": "0", "image": …, "name": …}},
//    "scope": "local", "time": SECONDS, "timeNano": NANOSECONDS}
// and a container's or image's also has the fields older clients read: status (the action), id, from (the image).
//
// Only what goes through the daemon is told: a `tsrun run` on the command line, or a restart by a container's
// own policy, makes no event here.
import type { ContainerRecord } from '../container.js';

export type EventType = 'container' | 'image' | 'network' | 'volume';

export interface DockerEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  /** Nanoseconds since 1970: more than a double holds exactly, so written into the JSON as digits (see eventLine). */
  timeNano: bigint;
}

/** As many as dockerd keeps for --since. */
const KEPT = 256;

export class Events {
  private readonly kept: DockerEvent[] = [];
  private readonly listeners = new Set<(event: DockerEvent) => void>();
  /** Containers whose destroy was told: a --rm container removed by `docker rm -f` is seen going twice. */
  private readonly destroyed = new Set<string>();

  emit(Type: EventType, Action: string, ID: string, Attributes: Record<string, string>): void {
    const timeNano = nowNano();
    const event: DockerEvent = { Type, Action, Actor: { ID, Attributes }, scope: 'local', time: Number(timeNano / 1_000_000_000n), timeNano };
    this.kept.push(event);
    if (this.kept.length > KEPT) this.kept.shift();
    for (const listener of this.listeners) listener(event);
  }

  /** A container's event, with its name, its image and its labels, as dockerd tells them (label= filters read them). */
  container(Action: string, container: ContainerRecord, more: Record<string, string> = {}): void {
    if (Action === 'destroy') {
      if (this.destroyed.has(container.id)) return;
      this.destroyed.add(container.id);
      if (this.destroyed.size > KEPT) this.destroyed.delete(this.destroyed.values().next().value!);
    }
    this.emit('container', Action, container.id, { ...container.config.labels, ...more, image: container.image.name, name: container.name });
  }

  /** Those kept since `since` (nanoseconds), then every new one, until the returned function is called. */
  follow(since: bigint | undefined, listener: (event: DockerEvent) => void): () => void {
    if (since !== undefined) for (const event of this.kept.filter((kept) => kept.timeNano >= since)) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The event as dockerd writes it, a line of JSON with timeNano's digits exact. */
export function eventLine(event: DockerEvent): string {
  const { timeNano, ...rest } = event;
  // The fields older clients read: a container's and an image's events had them before Type and Actor.
  const legacy = event.Type === 'container' || event.Type === 'image'
    ? { status: event.Action, id: event.Actor.ID, ...(event.Type === 'container' ? { from: event.Actor.Attributes.image } : {}) }
    : {};
  return JSON.stringify({ ...legacy, ...rest }).replace(/\}$/, `,"timeNano":${timeNano}}`) + '\n';
}

/** Now, in nanoseconds since 1970, to the microsecond the clock gives. */
export function nowNano(): bigint {
  const ms = performance.timeOrigin + performance.now();
  return BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1000)) * 1000n;
}
