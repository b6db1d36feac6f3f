// The container's child (see child.h), and the encoding of its steps for tsrun-monitor.
#include "child.h"
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

namespace tsrun {

namespace {

// A NULL-terminated array of pointers into the strings of `store`, which must not change after.
void TerminateArray(std::vector<std::string>& store, std::vector<char*>& view) {
  view.clear();
  for (std::string& s : store) view.push_back(&s[0]);
  view.push_back(nullptr);
}

}  // namespace

std::string DecodeBase64(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int8_t value_of[256];
  memset(value_of, -1, sizeof(value_of));
  for (size_t i = 0; i < kAlphabet.size(); i++) value_of[(unsigned char)kAlphabet[i]] = (int8_t)i;
  std::string bytes;
  bytes.reserve(text.size() * 3 / 4);
  unsigned int bits = 0;
  int count = 0;
  for (unsigned char c : text) {
    if (value_of[c] < 0) continue;  // '=' padding
    bits = (bits << 6) | (unsigned int)value_of[c];
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes += (char)((bits >> count) & 0xff);
    }
  }
  return bytes;
}

void PlanInRoot(Step& step) {
  if (step.root.empty()) return;
  const std::string& path = step.op == Op::Symlink ? step.s2 : step.s1;
  size_t slash = path.find_last_of('/');
  step.parent = slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
  step.name = slash == std::string::npos ? path : path.substr(slash + 1);
}

// #region sealed-copy
int SealedCopy(const char* path, const char** failed) {
  int file = -1, copy = -1;
  auto fail = [&](const char* call) {
    int saved = errno;
    for (int fd : {file, copy}) {
      if (fd >= 0) close(fd);
    }
    *failed = call;
    errno = saved;
    return -1;
  };
  file = open(path, O_RDONLY | O_CLOEXEC);
  if (file < 0) return fail("open");
  copy = memfd_create("tsrun-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0) return fail("memfd_create");
  ssize_t sent;
  while ((sent = sendfile(copy, file, nullptr, 1 << 20)) > 0) {}
  if (sent < 0) return fail("sendfile");
  // No shrinking, growing or writing, and no unsealing: the copy stays what it is while anyone holds it.
  if (fcntl(copy, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) return fail("fcntl F_ADD_SEALS");
  close(file);
  return copy;
}
// #endregion

void PlanExecve(std::vector<Step>& steps, int error_write, int start_fd) {
  for (size_t i = 0; i < steps.size(); i++) {
    Step& step = steps[i];
    if (step.op == Op::RunHook) {
      TerminateArray(step.argv_store, step.exec_argv);
      TerminateArray(step.envp_store, step.envp);
    }
    if (step.op != Op::Execve) continue;
    step.exec_argv_store = {"tsrun-exec", std::to_string(error_write), std::to_string(i), std::to_string(start_fd),
                             std::to_string(step.candidates.size())};
    step.exec_argv_store.insert(step.exec_argv_store.end(), step.candidates.begin(), step.candidates.end());
    step.exec_argv_store.insert(step.exec_argv_store.end(), step.hook_args.begin(), step.hook_args.end());
    step.exec_argv_store.insert(step.exec_argv_store.end(), step.argv_store.begin(), step.argv_store.end());
    TerminateArray(step.exec_argv_store, step.exec_argv);
    TerminateArray(step.envp_store, step.envp);
  }
}

int ReceiveFd(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  ssize_t got;
  do got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got < 0) return -1;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (got == 0 || !cmsg || cmsg->cmsg_type != SCM_RIGHTS) {
    errno = ENOMSG;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

int64_t MonotonicNanoseconds() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

// ---- openat2, and the walk for kernels without it: async-signal-safe, for the child and the addon alike ----

// #region openat2
int OpenResolved(int dirfd, const char* path, uint64_t flags, mode_t mode, uint64_t resolve) {
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = resolve;
  int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
  if (fd >= 0 || errno != ENOSYS) return fd;
  return WalkBeneath(dirfd, path, (int)(flags | O_CLOEXEC), mode, resolve);
}

namespace {

// Copies `a` then, if `b` is not empty, "/" and `b` into `out` (PATH_MAX bytes); false if it does not fit.
bool Join(char* out, const char* a, size_t a_length, const char* b) {
  size_t b_length = strlen(b);
  if (a_length + 1 + b_length + 1 > PATH_MAX) return false;
  char joined[PATH_MAX];  // `b` may point into `out`
  memcpy(joined, a, a_length);
  size_t at = a_length;
  if (b_length > 0) {
    joined[at++] = '/';
    memcpy(joined + at, b, b_length);
    at += b_length;
  }
  joined[at] = '\0';
  memcpy(out, joined, at + 1);
  return true;
}

int Fail(int fd, int err) {
  if (fd >= 0) close(fd);
  errno = err;
  return -1;
}

}  // namespace

// Linux before 5.6 has no openat2: the same walk by hand, one component at a time with O_PATH | O_NOFOLLOW.
// A symlink's target is walked in its place (from the top if it is absolute), or refused with
// RESOLVE_NO_SYMLINKS; ".." never climbs above the top: it stays there (RESOLVE_IN_ROOT) or is refused
// (RESOLVE_BENEATH), as an absolute path or link is. Magic links are read as the text they show. Weaker than the
// kernel's walk only against a directory renamed while it walks, which nothing does to a container that has not
// started yet. What it cannot do as openat2 does, it answers ENOSYS, as the kernel did: a walk not kept under the
// top (neither RESOLVE_BENEATH nor RESOLVE_IN_ROOT), or kept on one mount (RESOLVE_NO_XDEV).
int WalkBeneath(int top, const char* path, int flags, mode_t mode, uint64_t resolve) {
  if (!(resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) || (resolve & RESOLVE_NO_XDEV)) return Fail(-1, ENOSYS);
  if ((resolve & RESOLVE_BENEATH) && path[0] == '/') return Fail(-1, EXDEV);
  char pending[PATH_MAX];
  if (!Join(pending, path, strlen(path), "")) return Fail(-1, ENAMETOOLONG);
  int dir = openat(top, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  int depth = 0, links = 0;
  char* rest = pending;
  for (;;) {
    while (*rest == '/') rest++;
    if (*rest == '\0') {  // what is left names a directory, or the top itself: open it as asked
      int fd = openat(dir, ".", flags, mode);
      int saved = errno;
      close(dir);
      errno = saved;
      return fd;
    }
    char* end = strchr(rest, '/');
    size_t length = end ? (size_t)(end - rest) : strlen(rest);
    char name[NAME_MAX + 1];
    if (length > NAME_MAX) return Fail(dir, ENAMETOOLONG);
    memcpy(name, rest, length);
    name[length] = '\0';
    rest += length;
    bool last = true;
    for (const char* after = rest; *after; after++) last = last && *after == '/';
    if (strcmp(name, ".") == 0) continue;
    if (strcmp(name, "..") == 0) {
      if (depth == 0) {
        if (resolve & RESOLVE_BENEATH) return Fail(dir, EXDEV);
        continue;  // RESOLVE_IN_ROOT: ".." of the root is the root
      }
      int up = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (up < 0) return Fail(dir, errno);
      close(dir);
      dir = up, depth--;
      continue;
    }
    int next = openat(dir, name, last ? (flags | O_NOFOLLOW) : (O_PATH | O_NOFOLLOW | O_CLOEXEC), mode);
    int open_errno = errno;
    // A symlink, opened (O_PATH) or refused (ELOOP, or ENOTDIR when O_DIRECTORY was asked): walk its target instead.
    struct stat st;
    bool symlink = next >= 0 ? fstat(next, &st) == 0 && S_ISLNK(st.st_mode)
                             : fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    errno = open_errno;
    if (symlink && last && (flags & O_NOFOLLOW)) {  // not to be followed: the link itself (O_PATH), or open's refusal
      if (next < 0) return Fail(dir, errno);
      close(dir);
      return next;
    }
    if (next >= 0 && !symlink) {
      if (last) {
        close(dir);
        return next;
      }
      if (fstat(next, &st) != 0 || !S_ISDIR(st.st_mode)) {
        close(next);
        return Fail(dir, ENOTDIR);
      }
      close(dir);
      dir = next, depth++;
      continue;
    }
    if (next >= 0) close(next);
    if (!symlink) return Fail(dir, errno);
    if ((resolve & RESOLVE_NO_SYMLINKS) || ++links > 40) return Fail(dir, ELOOP);
    char target[PATH_MAX];
    ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
    if (n < 0) return Fail(dir, errno);
    target[n] = '\0';
    if (target[0] == '/') {
      if (resolve & RESOLVE_BENEATH) return Fail(dir, EXDEV);
      int back = openat(top, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (back < 0) return Fail(dir, errno);
      close(dir);
      dir = back, depth = 0;
    }
    if (!Join(pending, target, (size_t)n, rest)) return Fail(dir, ENAMETOOLONG);
    rest = pending;
  }
}
// #endregion

// ---- everything below runs in the child: async-signal-safe calls only ----

namespace {

[[noreturn]] void Report(const ChildContext& ctx, int step, int err) {
  if (step >= 0) ctx.times[kFirstStepSlot + step + 1] = MonotonicNanoseconds();  // when the failed step ended
  int32_t message[2] = {step, err};
  ssize_t ignored = write(ctx.error_write, message, sizeof(message));
  (void)ignored;
  _exit(127);
}

// open, write, close: for files the kernel reads on write, like cgroup.procs.
int WriteFile(const Step& step) {
  int fd = open(step.s1.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t written = write(fd, step.s2.data(), step.s2.size());
  int saved = errno;
  close(fd);
  if (written == (ssize_t)step.s2.size()) return 0;
  errno = written < 0 ? saved : EIO;
  return -1;
}

// Join the namespace a file refers to (a /proc/PID/ns/* link, or a bind mount of one).
int Setns(const Step& step) {
  int fd = open(step.s1.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = setns(fd, (int)step.n1);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int LinkUp(const char* name) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  struct ifreq request;
  memset(&request, 0, sizeof(request));
  strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  int rc = ioctl(sock, SIOCGIFFLAGS, &request);
  if (rc == 0) {
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(sock, SIOCSIFFLAGS, &request);
  }
  int saved = errno;
  close(sock);
  errno = saved;
  return rc;
}

// A pty from the container's own devpts becomes the controlling terminal on
// 0, 1 and 2; its master goes back to tsrun over the console socket.
int OpenPty(const ChildContext& ctx, const Step& step) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) return -1;
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR);
  if (slave < 0) return -1;
  if (ioctl(slave, TIOCSCTTY, 0) != 0) return -1;
  struct winsize size;
  memset(&size, 0, sizeof(size));
  size.ws_row = (unsigned short)step.n1;
  size.ws_col = (unsigned short)step.n2;
  if (ioctl(slave, TIOCSWINSZ, &size) != 0) return -1;
  for (int fd = 0; fd < 3; fd++) {
    if (dup2(slave, fd) < 0) return -1;
  }
  if (slave > 2) close(slave);

  char byte = 0;
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
  if (sendmsg(ctx.console_child, &msg, MSG_NOSIGNAL) < 0) return -1;
  close(master);
  close(ctx.console_child);
  return 0;
}

// The bounding set: capabilities this process and every program it executes can never gain again.
int CapbsetDrop(unsigned long mask) {
  for (int cap = 0; cap < 64; cap++) {
    if ((mask >> cap) & 1UL && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return -1;
  }
  return 0;
}

// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE) for each: capabilities kept through an execve of a program without file
// capabilities, as an OCI bundle's process.capabilities.ambient asks. Each must be permitted and inheritable already.
int CapAmbientRaise(unsigned long mask) {
  for (int cap = 0; cap < 64; cap++) {
    if ((mask >> cap) & 1UL && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return -1;
  }
  return 0;
}

// capset(2) takes each set as two 32-bit words (version 3 of its structures).
int Capset(const Step& step) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int word = 0; word < 2; word++) {
    data[word].effective = (uint32_t)((unsigned long)step.n1 >> (32 * word));
    data[word].permitted = (uint32_t)((unsigned long)step.n2 >> (32 * word));
    data[word].inheritable = (uint32_t)((unsigned long)step.n3 >> (32 * word));
  }
  return (int)syscall(SYS_capset, &header, data);
}

int Setrlimit(const Step& step) {
  auto value = [](long n) { return n < 0 ? RLIM_INFINITY : (rlim_t)n; };
  struct rlimit limit = {value(step.n2), value(step.n3)};
  return setrlimit((__rlimit_resource_t)step.n1, &limit);
}

// From here on the kernel runs the filter on every system call of this process and of all it starts.
int Seccomp(const Step& step) {
  struct sock_fprog program;
  program.len = (unsigned short)(step.program.size() / sizeof(struct sock_filter));
  program.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(step.program.data()));
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

// #region in-root
// Before pivot_root, the container's files are reached through the host's directory tree, where a
// symlink in the image ("/etc -> /host/dir", or "../../..") would point at the host's own files. So a
// step on the container's files opens its path inside the root as if that were "/" (openat2 with
// RESOLVE_IN_ROOT: ".." stops at the root, symlinks are followed inside it; RESOLVE_NO_MAGICLINKS: no
// /proc/PID/fd link out either), and works on what it opened: the *at() calls on a parent directory,
// and mount(2) on "/proc/self/fd/N", as runc does since CVE-2021-30465.
int OpenInRoot(const Step& step, const std::string& path, int flags, mode_t mode) {
  int root = open(step.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  int fd = OpenResolved(root, path.c_str(), (uint64_t)flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  int saved = errno;
  close(root);
  errno = saved;
  return fd;
}

// "/proc/self/fd/N" for an open file, written without allocating.
struct FdPath {
  char text[32];
  explicit FdPath(int fd) {
    const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int count = 0;
    unsigned int n = fd < 0 ? 0 : (unsigned int)fd;
    do digits[count++] = (char)('0' + n % 10); while ((n /= 10) > 0);
    size_t at = sizeof(prefix) - 1;
    memcpy(text, prefix, at);
    while (count > 0) text[at++] = digits[--count];
    text[at] = '\0';
  }
};

// `call` on the step's parent directory, opened inside the root; closes it, keeping call's errno.
template <typename Call>
int InParent(const Step& step, Call call) {
  int parent = OpenInRoot(step, step.parent, O_PATH | O_DIRECTORY, 0);
  if (parent < 0) return -1;
  int rc = call(parent, step.name.c_str());
  int saved = errno;
  close(parent);
  errno = saved;
  return rc;
}

int MountInRoot(const Step& step) {
  int target = OpenInRoot(step, step.s2, O_PATH, 0);
  if (target < 0) return -1;
  int source = step.source_in_root ? OpenInRoot(step, step.s1, O_PATH, 0) : -1;
  int rc = -1;
  if (!step.source_in_root || source >= 0) {
    FdPath target_path(target), source_path(source);
    rc = mount(step.source_in_root ? source_path.text : step.s1.c_str(), target_path.text,
               step.s3.empty() ? nullptr : step.s3.c_str(), step.flags, step.s4.empty() ? nullptr : step.s4.c_str());
  }
  int saved = errno;
  close(target);
  if (source >= 0) close(source);
  errno = saved;
  return rc;
}

int InRoot(const Step& step) {
  switch (step.op) {
    case Op::Mount: return MountInRoot(step);
    case Op::Mkdir:
      return InParent(step, [&](int dir, const char* name) { return mkdirat(dir, name, (mode_t)step.n1) == 0 || errno == EEXIST ? 0 : -1; });
    case Op::CreateFile: {
      int fd = OpenInRoot(step, step.s1, O_CREAT | O_WRONLY, (mode_t)step.n1);
      if (fd < 0) return -1;
      close(fd);
      return 0;
    }
    case Op::Mknod:
      return InParent(step, [&](int dir, const char* name) { return mknodat(dir, name, (mode_t)step.n1, makedev(step.n2, step.n3)); });
    case Op::Symlink:
      return InParent(step, [&](int dir, const char* name) { return symlinkat(step.s1.c_str(), dir, name) == 0 || errno == EEXIST ? 0 : -1; });
    default:
      errno = EINVAL;
      return -1;
  }
}
// #endregion

// #region execve
// Not the command itself: tsrun-exec, from its sealed copy, which searches PATH and execs the command
// (see exec.c). So the process is never a host file while it runs what the container's files say, as
// an interpreter named in a script's "#!" line. The error pipe stays open for this one exec: tsrun-exec
// reports on it if no candidate runs, and its own execve of the command closes it.
int Execve(const ChildContext& ctx, const Step& step) {
  if (fcntl(ctx.error_write, F_SETFD, 0) != 0) return -1;
  if (ctx.start_fd >= 0 && fcntl(ctx.start_fd, F_SETFD, 0) != 0) return -1;
  return execveat(ctx.exec_helper, "", step.exec_argv.data(), step.envp.data(), AT_EMPTY_PATH);
}
// #endregion

// What the process a fork step makes goes on with: the steps after the fork.
struct Continuation {
  const ChildContext* ctx;
  size_t next_step;
};

[[noreturn]] void RunStepsFrom(const ChildContext& ctx, size_t first);

int ContinueSteps(void* arg) {
  const Continuation& go_on = *static_cast<const Continuation*>(arg);
  // Its parent is tsrun now (CLONE_PARENT): the setting made for the first child is not inherited.
  if (go_on.ctx->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Report(*go_on.ctx, -1, errno);
  RunStepsFrom(*go_on.ctx, go_on.next_step);
}

constexpr size_t kForkStackSize = 256 * 1024;

// fork: the steps after this one run in a new process. Needed after joining a PID namespace, which only a
// process's children enter. The new process is made tsrun's own child (CLONE_PARENT), so that tsrun waits for
// the command itself and sends it signals; like this child, it borrows tsrun's memory on a stack of its own
// until its execve (CLONE_VM | CLONE_VFORK). Its pid goes to tsrun through that memory, and this child exits.
// clone(), never fork(): fork() takes glibc's locks for its atfork handlers, which another thread of tsrun's
// may have held when this child was made.
[[noreturn]] void ForkAndLeave(const ChildContext& ctx, size_t step) {
  if (ctx.forked == nullptr) Report(ctx, (int)step, EINVAL);  // a copy of tsrun's memory could not tell it the pid
  void* stack = mmap(nullptr, kForkStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) Report(ctx, (int)step, errno);
  Continuation go_on{&ctx, step + 1};
  long pid = clone(ContinueSteps, static_cast<char*>(stack) + kForkStackSize, CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, &go_on);
  int clone_errno = errno;
  munmap(stack, kForkStackSize);  // in tsrun's memory: it must not stay behind
  if (pid < 0) Report(ctx, (int)step, clone_errno);
  *ctx.forked = (pid_t)pid;
  _exit(0);
}

int RunStep(const ChildContext& ctx, const Step& step) {
  if (!step.root.empty()) return InRoot(step);
  switch (step.op) {
    case Op::Mount:
      return mount(step.s1.c_str(), step.s2.c_str(), step.s3.empty() ? nullptr : step.s3.c_str(), step.flags,
                   step.s4.empty() ? nullptr : step.s4.c_str());
    case Op::Umount2: return umount2(step.s1.c_str(), (int)step.flags);
    case Op::PivotRoot: return (int)syscall(SYS_pivot_root, step.s1.c_str(), step.s2.c_str());
    case Op::Chdir: return chdir(step.s1.c_str());
    case Op::Chroot: return chroot(step.s1.c_str());
    case Op::Mkdir: return (mkdir(step.s1.c_str(), (mode_t)step.n1) == 0 || errno == EEXIST) ? 0 : -1;
    case Op::CreateFile: {
      int fd = open(step.s1.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, (mode_t)step.n1);
      if (fd < 0) return -1;
      close(fd);
      return 0;
    }
    case Op::Mknod: return mknod(step.s1.c_str(), (mode_t)step.n1, makedev(step.n2, step.n3));
    case Op::Symlink: return (symlink(step.s1.c_str(), step.s2.c_str()) == 0 || errno == EEXIST) ? 0 : -1;
    case Op::Sethostname: return sethostname(step.s1.c_str(), step.s1.size());
    case Op::Setdomainname: return setdomainname(step.s1.c_str(), step.s1.size());
    case Op::Umask: umask((mode_t)step.n1); return 0;
    case Op::LinkUp: return LinkUp(step.s1.c_str());
    case Op::WriteFile: return WriteFile(step);
    case Op::Unshare: return unshare((int)step.flags);
    case Op::Setns: return Setns(step);
    case Op::Setsid: return setsid() < 0 ? -1 : 0;
    case Op::Setgroups: return setgroups(step.gids.size(), step.gids.data());
    case Op::Setgid: return setgid((gid_t)step.n1);
    case Op::Setuid: return setuid((uid_t)step.n1);
    case Op::OpenPty: return OpenPty(ctx, step);
    case Op::Execve: return Execve(ctx, step);
    case Op::CapbsetDrop: return CapbsetDrop(step.flags);
    case Op::CapAmbientRaise: return CapAmbientRaise(step.flags);
    case Op::Capset: return Capset(step);
    case Op::Prctl: return prctl((int)step.n1, (unsigned long)step.n2, 0, 0, 0);
    case Op::Setrlimit: return Setrlimit(step);
    case Op::Seccomp: return Seccomp(step);
    case Op::RunHook: {
      // An errno, or minus the wait status of a hook that ran and failed: Report passes either on as it is.
      int outcome = RunHook(step.s1.c_str(), step.exec_argv.data(), step.envp.data(), step.s2.c_str(), (int)step.n1);
      if (outcome == 0) return 0;
      errno = outcome;
      return -1;
    }
    case Op::Fork: break;  // see RunStepsFrom
  }
  errno = EINVAL;
  return -1;
}

}  // namespace

[[noreturn]] void RunChild(const ChildContext& ctx) {
  ctx.times[kChildStartSlot] = MonotonicNanoseconds();
  // Until its execve, the child is a copy of tsrun or tsrun-monitor, and it enters the container's
  // namespaces: a process of the container must not open its /proc/PID/exe, mem or fds. A process that
  // is not dumpable keeps those to holders of CAP_SYS_PTRACE, as runc's child does; the kernel makes the
  // next program dumpable again. (With CLONE_VM, this is tsrun's memory too: spawn.cc restores it.)
  if (prctl(PR_SET_DUMPABLE, 0) != 0) Report(ctx, -1, errno);
  for (int fd : ctx.parent_ends) close(fd);
  if (ctx.die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Report(ctx, -1, errno);

  // Node ignores SIGPIPE and has handlers of its own: give the container defaults.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);

  for (int fd = 0; fd < 3; fd++) {
    int source = ctx.stdio[fd];
    if (source < 0) source = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (source < 0) Report(ctx, -1, errno);
    // dup2 onto itself keeps FD_CLOEXEC, and our own 0-2 may well have it set.
    int rc = source == fd ? fcntl(fd, F_SETFD, 0) : dup2(source, fd);
    if (rc < 0) Report(ctx, -1, errno);
  }
  // #region preserve-fds
  // No descriptor of tsrun's may reach the container's program, only those the caller asked to pass on (the
  // caller's 3, 4, ..., which tsrun inherited at the same numbers, as systemd's LISTEN_FDS numbers them).
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Report(ctx, -1, errno);
  for (int fd = 3; fd < 3 + ctx.preserve_fds; fd++) {
    if (fcntl(fd, F_SETFD, 0) != 0) Report(ctx, -1, errno);
  }
  // #endregion

  RunStepsFrom(ctx, 0);
}

namespace {

// The kernel forgets the parent-death signal when a process's credentials change (commit_creds: a new
// uid, as setuid to the container's user makes): set it again before the command starts, as runc does, or
// a container of user 1000 would live on after its tsrun was killed. (runc also compares getppid() with
// the parent's pid, to catch a parent that died in between; in a new PID namespace the parent is outside
// and getppid() says 0 either way, so that check could not see anything here.)
void DieWithParentAgain(const ChildContext& ctx, size_t step) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Report(ctx, (int)step, errno);
}

[[noreturn]] void RunStepsFrom(const ChildContext& ctx, size_t first) {
  const std::vector<Step>& steps = *ctx.steps;
  for (size_t i = first; i < steps.size(); i++) {
    ctx.times[kFirstStepSlot + i] = MonotonicNanoseconds();
    if (steps[i].op == Op::Fork) ForkAndLeave(ctx, i);
    if (steps[i].op == Op::Execve && ctx.die_with_parent) DieWithParentAgain(ctx, i);
    if (RunStep(ctx, steps[i]) != 0 && !(steps[i].optional && errno == ENOENT)) Report(ctx, (int)i, errno);
  }
  Report(ctx, (int)steps.size(), ENOEXEC);  // the list did not end in a successful execve
}

}  // namespace


// ---- the encoding: NUL-terminated fields, numbers in decimal ----

namespace {

void Put(std::string& out, const std::string& field) {
  out += field;
  out += '\0';
}

void PutNumber(std::string& out, long long number) { Put(out, std::to_string(number)); }

void PutList(std::string& out, const std::vector<std::string>& list) {
  PutNumber(out, (long long)list.size());
  for (const std::string& item : list) Put(out, item);
}

struct Reader {
  const std::string& bytes;
  size_t at = 0;
  bool ok = true;

  std::string Field() {
    size_t end = bytes.find('\0', at);
    if (end == std::string::npos) {
      ok = false;
      return "";
    }
    std::string field = bytes.substr(at, end - at);
    at = end + 1;
    return field;
  }
  long long Number() {
    std::string field = Field();
    char* end = nullptr;
    long long value = strtoll(field.c_str(), &end, 10);
    if (field.empty() || *end != '\0') ok = false;
    return value;
  }
  std::vector<std::string> List() {
    long long count = Number();
    std::vector<std::string> list;
    for (long long i = 0; ok && i < count; i++) list.push_back(Field());
    return list;
  }
};

const char kMagic[] = "tsrun-spawn-4";

}  // namespace

std::string EncodeSpawn(unsigned long clone_flags, const std::string& exec_helper, const std::vector<Step>& steps) {
  std::string out;
  Put(out, kMagic);
  PutNumber(out, (long long)clone_flags);
  Put(out, exec_helper);
  PutNumber(out, (long long)steps.size());
  for (const Step& step : steps) {
    PutNumber(out, (long long)step.op);
    PutNumber(out, step.optional ? 1 : 0);
    for (const std::string* s : {&step.s1, &step.s2, &step.s3, &step.s4, &step.root}) Put(out, *s);
    PutNumber(out, step.source_in_root ? 1 : 0);
    PutNumber(out, (long long)step.flags);
    for (long n : {step.n1, step.n2, step.n3}) PutNumber(out, n);
    PutNumber(out, (long long)step.gids.size());
    for (gid_t gid : step.gids) PutNumber(out, gid);
    PutList(out, step.candidates);
    PutList(out, step.argv_store);
    PutList(out, step.envp_store);
    PutList(out, step.hook_args);
  }
  return out;
}

bool DecodeSpawn(const std::string& bytes, unsigned long* clone_flags, std::string* exec_helper, std::vector<Step>* steps) {
  Reader in{bytes};
  if (in.Field() != kMagic) return false;
  *clone_flags = (unsigned long)in.Number();
  *exec_helper = in.Field();
  long long count = in.Number();
  for (long long i = 0; in.ok && i < count; i++) {
    Step step{};
    step.op = (Op)in.Number();
    step.optional = in.Number() != 0;
    for (std::string* s : {&step.s1, &step.s2, &step.s3, &step.s4, &step.root}) *s = in.Field();
    step.source_in_root = in.Number() != 0;
    step.flags = (unsigned long)in.Number();
    for (long* n : {&step.n1, &step.n2, &step.n3}) *n = (long)in.Number();
    long long gids = in.Number();
    for (long long g = 0; in.ok && g < gids; g++) step.gids.push_back((gid_t)in.Number());
    step.candidates = in.List();
    step.argv_store = in.List();
    step.envp_store = in.List();
    step.hook_args = in.List();
    if (step.op == Op::Seccomp) step.program = DecodeBase64(step.s1);
    PlanInRoot(step);
    steps->push_back(std::move(step));
  }
  return in.ok && in.at == bytes.size();
}

}  // namespace tsrun
