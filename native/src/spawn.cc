// spawn(): clone a child into new namespaces and have it run a list of steps
// built in TypeScript (src/kernel/steps.ts), ending in execve.
//
// Node is multi-threaded, so after clone() the child may only do
// async-signal-safe work: no malloc, no locks, no C++ exceptions. Everything
// the child needs (strings, argv and envp arrays, flag values) is prepared
// here, before clone, in the parent. If a step fails, the child writes
// {step index, errno} to a close-on-exec pipe and exits; if execve succeeds,
// the pipe closes with nothing written, and tsrun knows the command started.
//
// For the trace, the child also notes when each step begins (CLOCK_MONOTONIC:
// clock_gettime is async-signal-safe) in memory it shares with tsrun, which
// turns the times into spans once the command runs or a step has failed:
//   times[0]      tsrun calls clone
//   times[1]      the child begins
//   times[2 + i]  step i begins (and step i - 1 has ended)
// A step that fails gets its end written in the slot after its own. A slot
// never reached stays 0; execve's end is when tsrun sees the pipe close.
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <grp.h>

namespace tsrun {
namespace {

enum class Op {
  WaitForParent, Mount, Umount2, PivotRoot, Chdir, Mkdir, CreateFile, Mknod, Symlink,
  Sethostname, Umask, LinkUp, WriteFile, Unshare, Setns, Setsid, Setgroups, Setgid, Setuid, OpenPty, Execve,
};

// One step with every string and number it needs, owned by the parent's heap
// and copied into the child by clone (which has fork's copy-on-write memory).
struct Step {
  Op op;
  bool optional = false;  // ENOENT means "nothing to do", not failure
  std::string s1, s2, s3, s4;  // paths, names, data: meaning depends on op
  unsigned long flags = 0;
  long n1 = 0, n2 = 0, n3 = 0;
  std::vector<gid_t> gids;
  std::vector<std::string> candidates;  // execve: full paths to try in order
  std::vector<std::string> argv_store, envp_store;
  std::vector<char*> argv, envp;  // NULL-terminated views of the stores
};

// Where the times of clone, of the child's start and of each step go (see the top of the file).
constexpr size_t kCloneSlot = 0, kChildStartSlot = 1, kFirstStepSlot = 2;

struct ChildContext {
  std::vector<Step>* steps;
  int64_t* times;      // shared with tsrun: MAP_SHARED survives clone
  int stdio[3];
  int error_write;     // close-on-exec: closes at execve
  int release_read;    // wait_for_parent reads one byte from here
  int console_child;   // open_pty sends the master through here
  int parent_ends[3];  // the parent's ends of the pipes, closed in the child
  bool die_with_parent;
};

const struct {
  const char* name;
  Op op;
} kOps[] = {
    {"wait_for_parent", Op::WaitForParent}, {"mount", Op::Mount},       {"umount2", Op::Umount2},
    {"pivot_root", Op::PivotRoot},          {"chdir", Op::Chdir},       {"mkdir", Op::Mkdir},
    {"create_file", Op::CreateFile},        {"mknod", Op::Mknod},       {"symlink", Op::Symlink},
    {"sethostname", Op::Sethostname},       {"umask", Op::Umask},       {"link_up", Op::LinkUp},
    {"write_file", Op::WriteFile},          {"unshare", Op::Unshare},
    {"setns", Op::Setns},                   {"setsid", Op::Setsid},     {"setgroups", Op::Setgroups},
    {"setgid", Op::Setgid},                 {"setuid", Op::Setuid},     {"open_pty", Op::OpenPty},
    {"execve", Op::Execve},
};

long NumberProp(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (!value.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be a number");
  return value.As<Napi::Number>().Int64Value();
}

void TerminateArray(std::vector<std::string>& store, std::vector<char*>& view) {
  for (std::string& s : store) view.push_back(&s[0]);
  view.push_back(nullptr);
}

Step ParseStep(Napi::Env env, const Napi::Object& obj) {
  std::string name = StringProp(obj, "op");
  Step step{};
  bool known = false;
  for (const auto& entry : kOps) {
    if (name == entry.name) {
      step.op = entry.op;
      known = true;
    }
  }
  if (!known) throw Napi::TypeError::New(env, "unknown step op " + name);
  step.optional = obj.Get("optional").ToBoolean();
  switch (step.op) {
    case Op::WaitForParent: case Op::Setsid: break;
    case Op::Mount:
      step.s1 = StringProp(obj, "source");
      step.s2 = StringProp(obj, "target");
      step.s3 = StringProp(obj, "fstype");
      step.s4 = StringProp(obj, "data");
      step.flags = MountFlags(env, obj.Get("flags"));
      break;
    case Op::Umount2:
      step.s1 = StringProp(obj, "target");
      step.flags = Umount2Flags(env, obj.Get("flags"));
      break;
    case Op::PivotRoot:
      step.s1 = StringProp(obj, "new_root");
      step.s2 = StringProp(obj, "put_old");
      break;
    case Op::Chdir: step.s1 = StringProp(obj, "path"); break;
    case Op::Mkdir: case Op::CreateFile:
      step.s1 = StringProp(obj, "path");
      step.n1 = NumberProp(obj, "mode");
      break;
    case Op::Mknod:
      step.s1 = StringProp(obj, "path");
      step.n1 = NumberProp(obj, "mode");
      step.n2 = NumberProp(obj, "major");
      step.n3 = NumberProp(obj, "minor");
      break;
    case Op::Symlink:
      step.s1 = StringProp(obj, "target");
      step.s2 = StringProp(obj, "linkpath");
      break;
    case Op::Sethostname: step.s1 = StringProp(obj, "name"); break;
    case Op::Umask: step.n1 = NumberProp(obj, "mask"); break;
    case Op::LinkUp:
      step.s1 = StringProp(obj, "name");
      if (step.s1.size() >= IFNAMSIZ) throw Napi::TypeError::New(env, "interface name too long: " + step.s1);
      break;
    case Op::WriteFile:
      step.s1 = StringProp(obj, "path");
      step.s2 = StringProp(obj, "data");
      break;
    case Op::Unshare: step.flags = CloneFlags(env, obj.Get("flags")); break;
    case Op::Setns: {
      step.s1 = StringProp(obj, "path");
      Napi::Array nstype = Napi::Array::New(env, 1);
      nstype.Set(0u, obj.Get("nstype"));
      step.n1 = (long)CloneFlags(env, nstype);
      break;
    }
    case Op::Setgroups: {
      Napi::Array gids = obj.Get("gids").As<Napi::Array>();
      for (uint32_t i = 0; i < gids.Length(); i++) step.gids.push_back(gids.Get(i).As<Napi::Number>().Uint32Value());
      break;
    }
    case Op::Setgid: step.n1 = NumberProp(obj, "gid"); break;
    case Op::Setuid: step.n1 = NumberProp(obj, "uid"); break;
    case Op::OpenPty:
      step.n1 = NumberProp(obj, "rows");
      step.n2 = NumberProp(obj, "cols");
      break;
    case Op::Execve: {
      std::string file = StringProp(obj, "file");
      if (file.find('/') != std::string::npos) {
        step.candidates.push_back(file);
      } else {
        for (const std::string& dir : StringArrayProp(obj, "search")) {
          step.candidates.push_back((dir.empty() ? "." : dir) + "/" + file);
        }
      }
      step.argv_store = StringArrayProp(obj, "argv");
      step.envp_store = StringArrayProp(obj, "envp");
      TerminateArray(step.argv_store, step.argv);
      TerminateArray(step.envp_store, step.envp);
      break;
    }
  }
  return step;
}

int64_t MonotonicNanoseconds() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

// ---- everything below runs in the child: async-signal-safe calls only ----

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

// Like execvp: try each candidate; remember EACCES, so "exists but cannot run"
// (126) is told apart from "not found anywhere" (127).
int Execve(const Step& step) {
  bool denied = false;
  for (const std::string& path : step.candidates) {
    execve(path.c_str(), step.argv.data(), step.envp.data());
    if (errno == EACCES) denied = true;
    else if (errno != ENOENT && errno != ENOTDIR) return -1;
  }
  errno = denied ? EACCES : ENOENT;
  return -1;
}

int RunStep(const ChildContext& ctx, const Step& step) {
  switch (step.op) {
    case Op::WaitForParent: {
      char byte;
      ssize_t got;
      do got = read(ctx.release_read, &byte, 1);
      while (got < 0 && errno == EINTR);
      if (got != 1) {
        if (got == 0) errno = EPIPE;  // tsrun went away before saying go
        return -1;
      }
      close(ctx.release_read);
      return 0;
    }
    case Op::Mount:
      return mount(step.s1.c_str(), step.s2.c_str(), step.s3.empty() ? nullptr : step.s3.c_str(), step.flags,
                   step.s4.empty() ? nullptr : step.s4.c_str());
    case Op::Umount2: return umount2(step.s1.c_str(), (int)step.flags);
    case Op::PivotRoot: return (int)syscall(SYS_pivot_root, step.s1.c_str(), step.s2.c_str());
    case Op::Chdir: return chdir(step.s1.c_str());
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
    case Op::Execve: return Execve(step);
  }
  errno = EINVAL;
  return -1;
}

[[noreturn]] void RunChild(const ChildContext& ctx) {
  ctx.times[kChildStartSlot] = MonotonicNanoseconds();
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
  // No descriptor of tsrun's may reach the container's program.
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Report(ctx, -1, errno);

  const std::vector<Step>& steps = *ctx.steps;
  for (size_t i = 0; i < steps.size(); i++) {
    ctx.times[kFirstStepSlot + i] = MonotonicNanoseconds();
    if (RunStep(ctx, steps[i]) != 0 && !(steps[i].optional && errno == ENOENT)) Report(ctx, (int)i, errno);
  }
  Report(ctx, (int)steps.size(), ENOEXEC);  // the list did not end in a successful execve
}

// ---- back in the parent ----

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
}

void UnmapTimes(Napi::Env, void* times, size_t* length) {
  munmap(times, *length);
  delete length;
}

// spawn({cloneFlags, steps, stdio, dieWithParent}) -> {pid, errorFd, releaseFd, consoleFd, times}
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object request = info[0].As<Napi::Object>();
  unsigned long clone_flags = CloneFlags(env, request.Get("cloneFlags"));
  Napi::Array js_steps = request.Get("steps").As<Napi::Array>();
  std::vector<Step> steps;
  bool wants_pty = false;
  for (uint32_t i = 0; i < js_steps.Length(); i++) {
    steps.push_back(ParseStep(env, js_steps.Get(i).As<Napi::Object>()));
    if (steps.back().op == Op::OpenPty) wants_pty = true;
  }
  Napi::Array js_stdio = request.Get("stdio").As<Napi::Array>();

  int error_pipe[2], release_pipe[2], console[2] = {-1, -1};
  if (pipe2(error_pipe, O_CLOEXEC) != 0) ThrowErrno(env, errno, "pipe2");
  if (pipe2(release_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    CloseAll({error_pipe[0], error_pipe[1]});
    ThrowErrno(env, err, "pipe2");
  }
  if (wants_pty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) != 0) {
    int err = errno;
    CloseAll({error_pipe[0], error_pipe[1], release_pipe[0], release_pipe[1]});
    ThrowErrno(env, err, "socketpair");
  }

  // One slot for clone, one for the child's start, one per step, one for the end of a failed last step.
  size_t times_length = (kFirstStepSlot + steps.size() + 1) * sizeof(int64_t);
  void* times = mmap(nullptr, times_length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (times == MAP_FAILED) {
    int err = errno;
    CloseAll({error_pipe[0], error_pipe[1], release_pipe[0], release_pipe[1], console[0], console[1]});
    ThrowErrno(env, err, "mmap");
  }

  ChildContext ctx;
  ctx.steps = &steps;
  ctx.times = static_cast<int64_t*>(times);
  for (int fd = 0; fd < 3; fd++) ctx.stdio[fd] = js_stdio.Get(fd).As<Napi::Number>().Int32Value();
  ctx.error_write = error_pipe[1];
  ctx.release_read = release_pipe[0];
  ctx.console_child = console[1];
  ctx.parent_ends[0] = error_pipe[0];
  ctx.parent_ends[1] = release_pipe[1];
  ctx.parent_ends[2] = console[0];
  ctx.die_with_parent = request.Get("dieWithParent").ToBoolean();

  // Block every signal around clone so no handler of Node's runs in the child.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  ctx.times[kCloneSlot] = MonotonicNanoseconds();
  long pid = syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) RunChild(ctx);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  CloseAll({error_pipe[1], release_pipe[0], console[1]});
  if (pid < 0) {
    CloseAll({error_pipe[0], release_pipe[1], console[0]});
    munmap(times, times_length);
    ThrowErrno(env, clone_errno, "clone");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, (double)pid));
  result.Set("errorFd", Napi::Number::New(env, error_pipe[0]));
  result.Set("releaseFd", Napi::Number::New(env, release_pipe[1]));
  result.Set("consoleFd", Napi::Number::New(env, console[0]));
  // The mapping is unmapped when JavaScript no longer holds the buffer.
  result.Set("times", Napi::ArrayBuffer::New(env, times, times_length, UnmapTimes, new size_t(times_length)));
  return result;
}

}  // namespace

Napi::Object InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  return exports;
}

}  // namespace tsrun
