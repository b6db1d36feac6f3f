// The daemon's events as dockerd writes them, kept for --since, and filtered by dockerd's rules.
import { describe, expect, it } from 'vitest';
import { Events, eventLine, type DockerEvent } from '../../../src/daemon/events.js';

describe('events', () => {
  it('writes an event as dockerd does: the older fields first for a container, timeNano exact', () => {
    const event: DockerEvent = {
      Type: 'container', Action: 'die', Actor: { ID: 'abc', Attributes: { exitCode: '0', image: 'busybox:local', name: 'cap-ev' } },
      scope: 'local', time: 1795420679, timeNano: 1795420679863021986n,
    };
    expect(eventLine(event)).toBe('{"status":"die","id":"abc","from":"busybox:local","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":'
      + '{"exitCode":"0","image":"busybox:local","name":"cap-ev"}},"scope":"local","time":1795420679,"timeNano":1795420679863021986}\n');
    expect(eventLine({ ...event, Type: 'volume', Action: 'create', Actor: { ID: 'v', Attributes: { driver: 'local' } } }))
      .toBe('{"Type":"volume","Action":"create","Actor":{"ID":"v","Attributes":{"driver":"local"}},"scope":"local","time":1795420679,"timeNano":1795420679863021986}\n');
  });

  it('tells those kept since a time, then each new one, until the listener leaves', () => {
    const events = new Events();
    events.emit('volume', 'create', 'old', {});
    const since = BigInt(Date.now() + 1) * 1_000_000n;
    while (BigInt(Date.now()) * 1_000_000n <= since); // a millisecond later
    events.emit('volume', 'create', 'kept', {});
    const told: string[] = [];
    const stop = events.follow(since, (event) => told.push(event.Actor.ID));
    events.emit('volume', 'destroy', 'new', {});
    stop();
    events.emit('volume', 'destroy', 'after', {});
    expect(told).toEqual(['kept', 'new']);
    const all: DockerEvent[] = [];
    events.follow(0n, (event) => all.push(event))();
    expect(all.map((event) => event.Actor.ID)).toEqual(['old', 'kept', 'new', 'after']);
    expect(all.every((event) => event.time === Number(event.timeNano / 1_000_000_000n))).toBe(true);
  });

  it('tells a container\'s destroy once, with its labels, name and image among the attributes', () => {
    const events = new Events();
    const container = { id: 'c1', name: 'web', image: { name: 'busybox' }, config: { labels: { team: 'cap' } } } as never;
    events.container('destroy', container);
    events.container('destroy', container);
    const told: DockerEvent[] = [];
    events.follow(0n, (event) => told.push(event))();
    expect(told).toHaveLength(1);
    expect(told[0]!.Actor).toEqual({ ID: 'c1', Attributes: { team: 'cap', image: 'busybox', name: 'web' } });
  });
});
