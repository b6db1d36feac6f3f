// Containers without --name get a readable one, as docker gives them:
// an adjective and a pioneer of operating systems and networking.
import crypto from 'node:crypto';

const ADJECTIVES = [
  'brave', 'calm', 'clever', 'curious', 'eager', 'gentle', 'happy', 'jolly', 'keen', 'kind',
  'lively', 'lucid', 'merry', 'nimble', 'patient', 'quiet', 'quick', 'sharp', 'steady', 'witty',
];

const PIONEERS = [
  'allen', 'backus', 'bartik', 'cerf', 'corbato', 'dijkstra', 'engelbart', 'hamilton', 'hopper', 'kahn',
  'kernighan', 'knuth', 'lamport', 'liskov', 'lovelace', 'mccarthy', 'perlman', 'ritchie', 'thompson', 'torvalds',
];

export function generateName(taken: Set<string>): string {
  const pick = (list: string[]) => list[crypto.randomInt(list.length)]!;
  for (let attempt = 0; attempt < 20; attempt++) {
    const name = `${pick(ADJECTIVES)}_${pick(PIONEERS)}`;
    if (!taken.has(name)) return name;
  }
  // 400 combinations can run out in a busy classroom: add a number, as docker does.
  return `${pick(ADJECTIVES)}_${pick(PIONEERS)}${crypto.randomInt(10, 100)}`;
}
