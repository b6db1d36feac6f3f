// `-t`: the container's process has a pty of its own as its terminal. tsrun
// holds the pty's master end and relays bytes both ways between it and the
// user's terminal, which it puts in raw mode so that Ctrl-C, arrows and the
// like reach the container as bytes and the container's line discipline
// turns them into signals.
import tty from 'node:tty';
import type { Syscalls } from './syscalls.js';

export interface ConsoleRelay {
  /** Resolves once the container's side of the pty has closed and all output is written. */
  closed: Promise<void>;
}

export function relayConsole(sys: Syscalls, masterFd: number, forwardInput: boolean): ConsoleRelay {
  const master = new tty.ReadStream(masterFd); // a stream over the fd, both readable and writable
  const stdin = process.stdin;
  const stdout = process.stdout;

  const resize = () => {
    if (stdout.isTTY && stdout.rows > 0 && stdout.columns > 0) sys.ioctl_TIOCSWINSZ(masterFd, stdout.rows, stdout.columns);
  };
  resize();
  stdout.on('resize', resize);

  // Raw mode even without -i, as docker does: the container's pty already turns
  // "\n" into "\r\n", and ours must not do it a second time. (Node's own
  // setRawMode keeps that output translation on, so we ask libc's cfmakeraw.)
  const saved = stdin.isTTY ? sys.tcgetattr(stdin.fd) : undefined;
  const restore = () => { if (saved) sys.tcsetattr(stdin.fd, saved); };
  if (saved) {
    sys.tcsetattr(stdin.fd, sys.cfmakeraw(saved));
    process.once('exit', restore); // even if tsrun fails on the way out
  }
  if (forwardInput) stdin.pipe(master);
  master.pipe(stdout, { end: false });

  const closed = new Promise<void>((resolve) => {
    // When the last process holding the pty exits, reading the master fails with EIO: that is the end.
    master.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EIO') process.stderr.write(`tsrun: terminal: ${error.message}\n`);
    });
    master.on('close', () => {
      stdout.off('resize', resize);
      if (forwardInput) {
        stdin.unpipe(master);
        stdin.pause();
      }
      restore();
      process.off('exit', restore);
      resolve();
    });
  });
  return { closed };
}
