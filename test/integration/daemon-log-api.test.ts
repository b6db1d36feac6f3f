// `tsrun daemon --log-api`: what the docker CLI sends for `docker run`, and what the daemon answers, under each
// request's line, with no secret in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerReady, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

describe.skipIf(!dockerReady)('tsrun daemon --log-api (as root)', () => {
  let daemon: TestDaemon;
  beforeAll(async () => { daemon = await startTestDaemon('log-api', ['--log-api']); });
  afterAll(() => daemon.stop());

  it('shows each call of docker run with the JSON it carried and the JSON answered, env values and passwords hidden', () => {
    expect(daemon.docker(['run', '--rm', '-e', 'PASSWORD=hunter2', 'tsrun-demo', 'echo', 'hi'])).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    daemon.expectLogged(/POST \/v1\.41\/containers\/\w+\/wait\?condition=removed 200 .*\n  ← \{"StatusCode":0,"Error":null\}/);
    const log = daemon.log();
    // The create body, without its empty fields; the variable's name, not its value.
    expect(log).toMatch(/POST \/v1\.41\/containers\/create 201 \d+ ms\n  → \{.*"Env":\["PASSWORD=…"\].*"Cmd":\["echo","hi"\].*"Image":"tsrun-demo".*\}\n  ← \{"Id":"\w{64}","Warnings":\[\]\}\n/);
    expect(log).not.toMatch(/"Tty":false|"Domainname":""/);
    expect(log).toMatch(/POST \/v1\.41\/containers\/\w+\/attach\?[^ ]+ 101 \d+ ms\n  ← 101: from here on, the connection is the stream/);
    expect(daemon.docker(['login', '-u', 'me', '-p', 'hunter2', '127.0.0.1:1'])).toMatchObject({ status: 1 });
    daemon.expectLogged(/POST \/v1\.41\/auth 401 .*\n  → \{"username":"me","password":"…","serveraddress":"127\.0\.0\.1:1"\}/);
    expect(daemon.log()).not.toContain('hunter2');
  });
});
