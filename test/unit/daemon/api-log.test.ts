import { describe, expect, it } from 'vitest';
import { apiLines, compact, redact } from '../../../src/daemon/api-log.js';

describe('--log-api', () => {
  it('hides environment values and a login\'s secrets, and nothing else', () => {
    expect(redact({ Env: ['A=1', 'PASSWORD=x=y', 'BARE'], Cmd: ['echo', 'A=1'], Labels: { password: '' } }))
      .toEqual({ Env: ['A=…', 'PASSWORD=…', 'BARE'], Cmd: ['echo', 'A=1'], Labels: { password: '' } });
    expect(redact({ username: 'me', password: 'p', identitytoken: 't', serveraddress: 'r' })).toEqual({ username: 'me', password: '…', identitytoken: '…', serveraddress: 'r' });
    expect(redact({ Config: { Env: ['K=v'] } })).toEqual({ Config: { Env: ['K=…'] } });
  });

  it('leaves out the fields the CLI sends empty, in a body; an answer is shown whole', () => {
    expect(compact({ Image: 'x', Tty: false, Domainname: '', Volumes: null, Entrypoint: [], HostConfig: { CpuShares: 0, Binds: [] }, ConsoleSize: [0, 0] }))
      .toEqual({ Image: 'x', ConsoleSize: [0, 0] });
    expect(apiLines({ Tty: false }, { StatusCode: 0, Error: null }, 200)).toEqual(['  ← {"StatusCode":0,"Error":null}']);
    expect(apiLines({ Image: 'x' }, undefined, 101)).toEqual(['  → {"Image":"x"}', '  ← 101: from here on, the connection is the stream (stdin in, output out)']);
    expect(apiLines(undefined, undefined, 204)).toEqual([]);
    expect(apiLines({ Cmd: ['a'.repeat(700)] }, undefined, 201)[0]).toMatch(/^ {2}→ \{"Cmd":\["a{591}…$/);
  });
});
