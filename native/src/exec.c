// tsrun-exec: the program the container's child becomes just before the container's command.
//
// Until its last step the child is a clone of tsrun (node) or of tsrun-monitor, so the kernel's
// /proc/self/exe for it is a file of the host. Were the child to execve the command itself, a
// command that is a script beginning "#!/proc/self/exe" would have the kernel start that host
// binary inside the container, as the container's process, which could then write to it (CVE-2019-5736).
// So the child execs this small program instead, from a sealed copy in memory that tsrun made
// (a memfd: child.cc's SealedCopy), and this program execs the command. /proc/self/exe is then
// that copy, which no one can change, and a "#!/proc/self/exe" script only starts this program
// again, which, without tsrun's instructions, says so and does nothing.
//
// tsrun starts it as
//   tsrun-exec ERROR_FD STEP COUNT CANDIDATE... ARGV...
// with the container's environment. It tries the COUNT candidate paths in turn (the PATH search of
// the execve step); the first that runs becomes the container's process. If none does, it writes
// {STEP, errno} to ERROR_FD, the child's error pipe, just as the child does for its other steps.
// Linked statically, with musl (binding.gyp): the images it runs in need no loader or libc of their own, and
// at 17 kB it is cheap to copy and to start for every container (glibc's static start alone is 680 kB).
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

static const char kNotFromTsrun[] =
    "tsrun-exec: this is tsrun's helper, started without tsrun's instructions "
    "(by a script whose interpreter is /proc/self/exe?): nothing is run\n";

// A whole decimal number, or -1.
static long Number(const char* text) {
  char* end;
  errno = 0;
  long value = strtol(text, &end, 10);
  return errno != 0 || end == text || *end != '\0' ? -1 : value;
}

// #region main
int main(int argc, char** argv) {
  // tsrun always passes its error pipe, a step and a count of candidates (0 if PATH is empty), then an argv.
  int from_tsrun = argc > 4 && strcmp(argv[0], "tsrun-exec") == 0;
  long error_fd = from_tsrun ? Number(argv[1]) : -1;
  long step = from_tsrun ? Number(argv[2]) : -1;
  long count = from_tsrun ? Number(argv[3]) : -1;
  struct stat pipe;
  if (!from_tsrun || step < 0 || count < 0 || count > argc - 5 || fstat((int)error_fd, &pipe) != 0 ||
      !S_ISFIFO(pipe.st_mode)) {
    ssize_t ignored = write(2, kNotFromTsrun, sizeof(kNotFromTsrun) - 1);
    (void)ignored;
    // 126, the shell's "found but cannot be run": this file was found, and is no program for the container.
    return 126;
  }
  // Open only until the command starts: then it closes, which tells tsrun that the command runs.
  fcntl((int)error_fd, F_SETFD, FD_CLOEXEC);

  char** candidates = argv + 4;
  char** command = candidates + count;
  // As execvp does: remember EACCES, so "exists but cannot run" (126) is told apart from
  // "not found anywhere" (127).
  int denied = 0, err = 0;
  for (long i = 0; i < count && err == 0; i++) {
    execve(candidates[i], command, environ);
    if (errno == EACCES) denied = 1;
    else if (errno != ENOENT && errno != ENOTDIR) err = errno;
  }
  if (err == 0) err = denied ? EACCES : ENOENT;
  int32_t message[2] = {(int32_t)step, err};
  ssize_t ignored = write((int)error_fd, message, sizeof(message));
  (void)ignored;
  _exit(127);
}
// #endregion
