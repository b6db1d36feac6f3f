// Settings instructions (settings.ts): variables replaced, SHELL's shell form, WORKDIR relative to the last,
// and Docker's rule that a new ENTRYPOINT drops the base image's CMD.
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../../src/build/dockerfile.js';
import { settingsChange } from '../../../src/build/settings.js';
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
});
