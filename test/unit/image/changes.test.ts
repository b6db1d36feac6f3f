import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../../src/image/changes.js';

describe('applyChanges', () => {
  it('applies Dockerfile instructions to an image\'s settings, in order', () => {
    const config = applyChanges({ Env: ['PATH=/bin', 'A=old'], Cmd: ['sh'] }, [
      'CMD ["cat", "/greeting file"]',
      'ENTRYPOINT echo hello',
      'ENV A=new B="two words"',
      'EXPOSE 80 53/udp',
      'LABEL course=containers',
      'USER student',
      'WORKDIR /srv',
      'VOLUME /data',
      'STOPSIGNAL SIGINT',
    ]);
    expect(config).toEqual({
      Env: ['PATH=/bin', 'A=new', 'B=two words'],
      Cmd: ['cat', '/greeting file'],
      Entrypoint: ['/bin/sh', '-c', 'echo hello'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { course: 'containers' },
      User: 'student',
      WorkingDir: '/srv',
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
    });
  });

  it('refuses what commit cannot apply, and bad JSON, saying so', () => {
    expect(() => applyChanges({}, ['RUN apt-get update'])).toThrow('tsrun commit cannot apply RUN');
    expect(() => applyChanges({}, ['CMD ["sh", 1]'])).toThrow('is not a list of strings');
    expect(() => applyChanges({}, ["CMD ['sh']"])).toThrow('invalid JSON');
    expect(() => applyChanges({}, ['CMD sh\nENV A=1'])).toThrow('one Dockerfile instruction per -c');
  });
});
