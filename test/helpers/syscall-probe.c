// A tiny static program for confinement tests: makes one system call a test
// names, and prints what the kernel answered ("ok" or the errno's name), so a
// test can tell a seccomp refusal (EPERM) from any other outcome.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long call(const char* name) {
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  if (!strcmp(name, "unshare-user")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "mkdir")) return syscall(SYS_mkdir, "/tmp/probe-dir", 0755);
  errno = EINVAL;
  return -2;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    long rc = call(argv[i]);
    if (rc == -2) return 2;
    printf("%s: %s\n", argv[i], rc >= 0 ? "ok" : strerrorname_np(errno));
  }
  return 0;
}
