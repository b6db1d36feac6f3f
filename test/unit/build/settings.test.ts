// Settings instructions (settings.ts): variables replaced, SHELL's shell form, WORKDIR relative to the last,
// and Docker's rule that a new ENTRYPOINT drops the base image's CMD.
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../src/build/dockerfile.js';
import { goDuration, settingsChange } from '../../../src/build/settings.js';
import type { ContainerConfig } from '../../../src/image/oci.js';

function apply(line: string, config: ContainerConfig = {}, values: Record<string, string> = {}, cmdSet = false) {
  const dockerfile = parseDockerfile(`FROM x\n${line}\n`, 'Dockerfile');
  const warnings: string[] = [];
  const change = settingsChange(dockerfile, dockerfile.instructions[1]!, config, (name) => values[name], warnings, cmdSet);
  const result = structuredClone(config);
  change.apply(result);
  return { text: change.text, config: result, warnings };
}

describe('settingsChange', () => {
  it('replaces variables in ENV and LABEL values, and keeps quoted text whole', () => {
    expect(apply('ENV PATH=$PATH:/opt/bin NAME="a b" LIT=\'$PATH\'', { Env: ['PATH=/bin'] }, { PATH: '/bin' })).toMatchObject({
      text: 'ENV PATH=/bin:/opt/bin NAME=a b LIT=$PATH',
      config: { Env: ['PATH=/bin:/opt/bin', 'NAME=a b', 'LIT=$PATH'] },
    });
    expect(apply('LABEL "org.x"="${V}" plain=1', {}, { V: '2' }).config.Labels).toEqual({ 'org.x': '2', plain: '1' });
  });

  it('takes WORKDIR relative to the one before, and EXPOSE as docker records ports', () => {
    expect(apply('WORKDIR src', { WorkingDir: '/app' }).config.WorkingDir).toBe('/app/src');
    expect(apply('WORKDIR $HOME/x', {}, { HOME: '/root' }).config.WorkingDir).toBe('/root/x');
    expect(apply('WORKDIR ../srv/', { WorkingDir: '/tmp' }).config.WorkingDir).toBe('/srv');
    expect(apply('EXPOSE 80 53/UDP').config.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {} });
    expect(() => apply('EXPOSE eighty')).toThrow('invalid port "eighty"');
  });

  it('runs the shell form of CMD and ENTRYPOINT in SHELL, and leaves the exec form alone', () => {
    expect(apply('CMD echo $HOME').config.Cmd).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(apply('CMD echo hi', { Shell: ['/bin/bash', '-c'] }).config.Cmd).toEqual(['/bin/bash', '-c', 'echo hi']);
    expect(apply('CMD ["a", "b c"]').config.Cmd).toEqual(['a', 'b c']);
    expect(apply('SHELL ["/bin/ash", "-eo", "pipefail", "-c"]').config.Shell).toEqual(['/bin/ash', '-eo', 'pipefail', '-c']);
    expect(() => apply('SHELL /bin/bash')).toThrow('SHELL takes a JSON array');
  });

  it('drops the base image\'s CMD with a new ENTRYPOINT, not one the same stage set', () => {
    expect(apply('ENTRYPOINT ["run"]', { Cmd: ['sh'] }).config).toEqual({ Entrypoint: ['run'], Cmd: null });
    expect(apply('ENTRYPOINT ["run"]', { Cmd: ['--help'] }, {}, true).config).toEqual({ Entrypoint: ['run'], Cmd: ['--help'] });
  });

  it('records HEALTHCHECK as Docker does: CMD-SHELL or CMD, the times in nanoseconds, only those given; NONE', () => {
    expect(apply('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --retries=3 CMD wget -q -O- http://localhost/ || exit 1')).toMatchObject({
      text: 'HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --retries=3 CMD wget -q -O- http://localhost/ || exit 1',
      config: { Healthcheck: { Test: ['CMD-SHELL', 'wget -q -O- http://localhost/ || exit 1'], Interval: 30e9, Timeout: 90e9, StartPeriod: 5e8, Retries: 3 } },
    });
    // SHELL does not change it: the shell the container has runs CMD-SHELL.
    expect(apply('HEALTHCHECK CMD ["/bin/check", "--quick"]', { Shell: ['/bin/bash', '-c'] }).config.Healthcheck).toEqual({ Test: ['CMD', '/bin/check', '--quick'] });
    expect(apply('HEALTHCHECK --interval=0 --retries=0 cmd true').config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'] });
    expect(apply('HEALTHCHECK NONE', { Healthcheck: { Test: ['CMD', 'old'] } }).config.Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('refuses a HEALTHCHECK Docker refuses', () => {
    expect(() => apply('HEALTHCHECK --interval=soon CMD true')).toThrow('Dockerfile:2: HEALTHCHECK --interval=soon CMD true: invalid --interval=soon');
    expect(() => apply('HEALTHCHECK --timeout=10us CMD true')).toThrow('--timeout cannot be less than 1ms');
    expect(() => apply('HEALTHCHECK --retries=-1 CMD true')).toThrow('invalid --retries=-1');
    expect(() => apply('HEALTHCHECK CMD')).toThrow('HEALTHCHECK CMD needs a command');
    expect(() => apply('HEALTHCHECK RUN true')).toThrow('unknown type "RUN" in HEALTHCHECK');
    expect(() => apply('HEALTHCHECK NONE please')).toThrow('HEALTHCHECK NONE takes no arguments');
    expect(() => apply('HEALTHCHECK --retries=2 NONE')).toThrow('HEALTHCHECK NONE takes no arguments');
  });

  it('reads durations as Go does', () => {
    expect([goDuration('0'), goDuration('1h2m3s'), goDuration('1.5s'), goDuration('250ms'), goDuration('7µs')]).toEqual([0, 3723e9, 1.5e9, 2.5e8, 7000]);
    expect([goDuration('5'), goDuration('s'), goDuration('1d'), goDuration('1s '), goDuration('')]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('records ONBUILD\'s instruction as written, after those the image has, its variables left for the build that runs it', () => {
    expect(apply('ONBUILD RUN echo "$VERSION" > /v', { OnBuild: ['COPY . /src'] }, { VERSION: '1' })).toMatchObject({
      text: 'ONBUILD RUN echo "$VERSION" > /v',
      config: { OnBuild: ['COPY . /src', 'RUN echo "$VERSION" > /v'] },
    });
  });
});
