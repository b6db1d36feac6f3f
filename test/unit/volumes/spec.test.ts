import { describe, expect, it } from 'vitest';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from '../../../src/volumes/spec.js';

describe('mount flags', () => {
  it('reads -v as docker does: a host path, a volume name, or an anonymous volume', () => {
    expect(parseVolumeFlag('/srv/site:/usr/share/site:ro')).toEqual({ type: 'bind', source: '/srv/site', target: '/usr/share/site', readOnly: true });
    expect(parseVolumeFlag('cache:/var/cache/')).toEqual({ type: 'volume', source: 'cache', target: '/var/cache', readOnly: false });
    expect(parseVolumeFlag('/data')).toEqual({ type: 'volume', source: '', target: '/data', readOnly: false });
  });

  it('reads --mount and --tmpfs', () => {
    expect(parseMountFlag('type=bind,src=/srv,dst=/mnt,readonly')).toEqual({ type: 'bind', source: '/srv', target: '/mnt', readOnly: true });
    expect(parseMountFlag('source=cache,target=/cache')).toEqual({ type: 'volume', source: 'cache', target: '/cache', readOnly: false });
    expect(parseMountFlag('type=tmpfs,target=/tmp,tmpfs-size=1m')).toMatchObject({ type: 'tmpfs', target: '/tmp', options: 'mode=1777,size=1048576' });
    expect(parseTmpfsFlag('/run:size=64k,mode=755')).toMatchObject({ type: 'tmpfs', target: '/run', options: 'mode=755,size=65536' });
  });

  it('quotes what it refuses as JSON, so that a line break in it keeps the message on one line', () => {
    expect(() => parseVolumeFlag('data\n')).toThrow('invalid mount "data\\n": the path in the container must be absolute');
    expect(() => parseMountFlag('type=x\n,target=/a')).toThrow('invalid --mount "type=x\\n,target=/a": type must be bind, volume or tmpfs');
  });

  it('takes from --mount, as from -v, only a volume name a volume can have', () => {
    expect(() => parseMountFlag('src=\0,dst=/data')).toThrow('invalid --mount "src=\\u0000,dst=/data": "\\u0000" is not a volume name');
    expect(() => parseMountFlag('type=volume,source=../x,target=/data')).toThrow('"../x" is not a volume name');
    expect(parseMountFlag('type=volume,source=cache,target=/data').source).toBe('cache');
  });

  it('refuses what cannot be mounted, saying why', () => {
    expect(() => parseVolumeFlag('relative:/data')).not.toThrow(); // a volume named "relative"
    expect(() => parseVolumeFlag('./here:/data')).toThrow('neither an absolute host path nor a volume name');
    expect(() => parseVolumeFlag('/srv:data')).toThrow('the path in the container must be absolute');
    expect(() => parseVolumeFlag('/srv:/data/../etc')).toThrow('may not contain ".."');
    expect(() => parseVolumeFlag('/srv:/')).toThrow('cannot mount over the container\'s root');
    expect(() => parseVolumeFlag('/srv:/data:rx')).toThrow('unknown option "rx"');
    expect(() => parseMountFlag('type=nfs,target=/x')).toThrow('type must be bind, volume or tmpfs');
    expect(() => parseMountFlag('type=bind,source=rel,target=/x')).toThrow('needs an absolute source path');
    expect(() => parseMountFlag('type=volume,source=v')).toThrow('target is missing');
    expect(() => parseTmpfsFlag('/t:mode=999')).toThrow('invalid tmpfs mode');
    expect(() => parseTmpfsFlag('/t:exce')).toThrow('invalid --tmpfs "/t:exce": unknown option "exce"');
    expect(() => parseTmpfsFlag('/t:uid=0')).toThrow('unknown option "uid=0"');
  });

  it('reads --tmpfs flags as docker does: exec, suid and dev allowed back by name, ro, and the last one counts', () => {
    expect(parseTmpfsFlag('/t')).toEqual({ type: 'tmpfs', source: '', target: '/t', readOnly: false, options: 'mode=1777' });
    expect(parseTmpfsFlag('/t:exec,size=1k')).toMatchObject({ allow: ['exec'], options: 'mode=1777,size=1024' });
    expect(parseTmpfsFlag('/t:exec,dev,suid')).toMatchObject({ allow: ['exec', 'dev', 'suid'] });
    expect(parseTmpfsFlag('/t:exec,noexec').allow).toBeUndefined();
    expect(parseTmpfsFlag('/run:rw,noexec,nosuid,size=65536k')).toMatchObject({ readOnly: false, options: 'mode=1777,size=67108864' });
    expect(parseTmpfsFlag('/t:ro').readOnly).toBe(true);
    expect(parseTmpfsFlag('/t:ro,rw').readOnly).toBe(false);
  });
});
