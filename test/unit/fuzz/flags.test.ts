// The flags of run/create that are small languages of their own: -p, -v, --mount, --tmpfs, and
// --format's templates. A script may pass them anything.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exposedPorts, parsePublish } from '../../../src/net/ports.js';
import { parseAddress } from '../../../src/net/address.js';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag, } from '../../../src/volumes/spec.js';
import type { MountSpec } from '../../../src/container.js';
import { formatTemplate } from '../../../src/cli/go-template.js';
import { parseBytes } from '../../../src/cgroups/limits.js';
import { PROTOTYPE_KEYS, fromPieces, fuzzOptions, outcome } from './fuzz.js';

const publishText = fromPieces(['80', '8080', '0', '65535', '65536', '1-5', ':', ':', '/', 'tcp', 'udp', 'sctp', '127.0.0.1', '0.0.0.0', '256.1.1.1', '[::1]', '.']);

describe('fuzz: -p', () => {
  it('parsePublish refuses cleanly, or gives a mapping that writes back to itself', () => {
    fc.assert(fc.property(publishText, (text) => {
      const parsed = outcome(() => parsePublish(text));
      if (!parsed.ok) return;
      const { hostIp, hostPort, containerPort, protocol } = parsed.value;
      expect(Number.isInteger(containerPort) && containerPort >= 1 && containerPort <= 65535).toBe(true);
      expect(Number.isInteger(hostPort) && hostPort >= 0 && hostPort <= 65535).toBe(true);
      expect(['tcp', 'udp']).toContain(protocol);
      if (hostIp !== '') parseAddress(hostIp);
      expect(parsePublish(`${hostIp}:${hostPort || ''}:${containerPort}/${protocol}`)).toEqual(parsed.value);
    }), fuzzOptions(2000));
  });

  it('-P refuses an image\'s ExposedPorts cleanly, or publishes each of them', () => {
    fc.assert(fc.property(fc.dictionary(publishText, fc.constant({})), (exposed) => {
      const parsed = outcome(() => exposedPorts(exposed));
      if (!parsed.ok) return;
      expect(parsed.value).toHaveLength(Object.keys(exposed).length);
      for (const { containerPort, protocol } of parsed.value) {
        expect(Number.isInteger(containerPort) && containerPort >= 1 && containerPort <= 65535).toBe(true);
        expect(['tcp', 'udp']).toContain(protocol);
      }
    }), fuzzOptions(500));
  });
});

const mountText = fromPieces([
  '/', '/', '/data', '/host/dir', 'cache', 'c', '..', '.', ':', ':', 'ro', 'rw', ',', ',', '=', 'type=', 'bind', 'volume', 'tmpfs',
  'source=', 'src=', 'target=', 'destination=', 'dst=', 'readonly', 'tmpfs-size=', 'tmpfs-mode=', 'size=', 'mode=', '64m', '1g',
  '9'.repeat(400), '1777', '0', '8', 'false', 'true',
]);

/** What every accepted mount must be, whichever flag it came from. */
function expectSound(spec: MountSpec): void {
  expect(spec.target).toMatch(/^\/./s);
  expect(spec.target.split('/')).not.toContain('..');
  expect(spec.target).toBe('/' + spec.target.split('/').filter(Boolean).join('/'));
  if (spec.type === 'bind') expect(spec.source).toMatch(/^\//);
  if (spec.type === 'volume') expect(spec.source).toMatch(/^(|[a-zA-Z0-9][a-zA-Z0-9_.-]+)$/); // a name ensureVolume takes
  if (spec.type === 'tmpfs') {
    const options = new Map(spec.options!.split(',').map((option) => option.split('=') as [string, string]));
    expect(options.get('mode')).toMatch(/^[0-7]{3,4}$/);
    if (options.has('size')) expect(Number.isSafeInteger(Number(options.get('size')))).toBe(true);
  }
}

describe('fuzz: -v, --mount, --tmpfs', () => {
  it.each([
    ['-v', parseVolumeFlag],
    ['--mount', parseMountFlag],
    ['--tmpfs', parseTmpfsFlag],
  ])('%s refuses cleanly, or gives a mount at an absolute path inside the container', (_, parse) => {
    fc.assert(fc.property(mountText, (text) => {
      const parsed = outcome(() => parse(text));
      if (parsed.ok) expectSound(parsed.value);
    }), fuzzOptions(2000));
  });
});

describe('fuzz: sizes (--memory, --tmpfs size=)', () => {
  it('parseBytes refuses cleanly, or gives a whole number of bytes', () => {
    fc.assert(fc.property(fromPieces(['1', '64', '9'.repeat(20), '9'.repeat(400), '.', '5', 'k', 'm', 'g', 'b', 'B', 'G', ' ', 'e3', '-']), (text) => {
      const parsed = outcome(() => parseBytes('--memory', text));
      if (parsed.ok) expect(Number.isSafeInteger(parsed.value) && parsed.value >= 0).toBe(true);
    }), fuzzOptions(2000));
  });
});

// A template's fields name data's own fields, or none: a prototype's (constructor, __proto__) are no fields.
const fieldName = fc.constantFrom('Id', 'State', 'Pid', 'a', ...PROTOTYPE_KEYS);
const templateText = fc.array(fc.oneof(
  fieldName.map((field) => `{{.${field}}}`),
  fc.array(fieldName, { minLength: 1, maxLength: 3 }).map((fields) => `{{json .${fields.join('.')}}}`),
  fromPieces(['{{', '}}', '.', 'json ', ' ', '\\n', 'Id', 'State.Pid']),
), { maxLength: 4 }).map((parts) => parts.join(''));
const document = fc.dictionary(fieldName, fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 1 }))));

describe('fuzz: --format', () => {
  it('formatTemplate refuses cleanly, or fills each field with a value the data holds', () => {
    fc.assert(fc.property(document, fieldName, fieldName, (data, outer, inner) => {
      const parsed = outcome(() => formatTemplate(`{{json .${outer}.${inner}}}`, data));
      const holder = data[outer];
      const held = Object.hasOwn(data, outer) && holder !== null && typeof holder === 'object' && !Array.isArray(holder) && Object.hasOwn(holder, inner);
      expect(parsed.ok).toBe(held);
      if (parsed.ok) expect(JSON.parse(parsed.value)).toEqual((holder as Record<string, unknown>)[inner]);
    }), fuzzOptions(1000));
  });

  it('formatTemplate refuses any template cleanly, or gives text', () => {
    fc.assert(fc.property(templateText, document, (template, data) => {
      const parsed = outcome(() => formatTemplate(template, data));
      if (parsed.ok) expect(typeof parsed.value).toBe('string');
    }), fuzzOptions(1000));
  });
});
