// One thin wrapper per system call, named as the kernel names it. No policy
// lives here: the TypeScript side decides what to call and adds context.
#include "common.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <linux/openat2.h>
#include <sched.h>
#include <termios.h>
#include <unistd.h>

#include <thread>

namespace tsrun {

const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  std::string message = std::string(syscall) + (path.empty() ? "" : " " + path) + ": " + ErrnoName(err) + " (" +
                        strerror(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) error.Set("path", Napi::String::New(env, path));
  throw error;
}

std::string StringProp(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (!value.IsString()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

std::vector<std::string> StringArrayProp(const Napi::Object& obj, const char* key) {
  Napi::Value value = obj.Get(key);
  if (!value.IsArray()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be an array of strings");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

namespace {

struct NamedFlag {
  const char* name;
  unsigned long value;
};

const NamedFlag kMountFlags[] = {
    {"MS_RDONLY", MS_RDONLY},   {"MS_NOSUID", MS_NOSUID},         {"MS_NODEV", MS_NODEV},
    {"MS_NOEXEC", MS_NOEXEC},   {"MS_REMOUNT", MS_REMOUNT},       {"MS_BIND", MS_BIND},
    {"MS_REC", MS_REC},         {"MS_PRIVATE", MS_PRIVATE},       {"MS_SLAVE", MS_SLAVE},
    {"MS_SHARED", MS_SHARED},   {"MS_UNBINDABLE", MS_UNBINDABLE}, {"MS_STRICTATIME", MS_STRICTATIME},
    {"MS_RELATIME", MS_RELATIME}, {"MS_NOATIME", MS_NOATIME},     {"MS_MOVE", MS_MOVE},
    {"MS_NODIRATIME", MS_NODIRATIME}, {"MS_SYNCHRONOUS", MS_SYNCHRONOUS}, {"MS_DIRSYNC", MS_DIRSYNC},
};
const NamedFlag kOpenFlags[] = {
    {"O_RDONLY", O_RDONLY},   {"O_WRONLY", O_WRONLY},   {"O_RDWR", O_RDWR},         {"O_PATH", O_PATH},
    {"O_NOFOLLOW", O_NOFOLLOW}, {"O_NONBLOCK", O_NONBLOCK}, {"O_DIRECTORY", O_DIRECTORY}, {"O_CLOEXEC", O_CLOEXEC},
};
const NamedFlag kResolveFlags[] = {
    {"RESOLVE_BENEATH", RESOLVE_BENEATH},         {"RESOLVE_IN_ROOT", RESOLVE_IN_ROOT},
    {"RESOLVE_NO_SYMLINKS", RESOLVE_NO_SYMLINKS}, {"RESOLVE_NO_MAGICLINKS", RESOLVE_NO_MAGICLINKS},
    {"RESOLVE_NO_XDEV", RESOLVE_NO_XDEV},
};
const NamedFlag kUmountFlags[] = {{"MNT_DETACH", MNT_DETACH}, {"MNT_FORCE", MNT_FORCE}, {"MNT_EXPIRE", MNT_EXPIRE}};
const NamedFlag kCloneFlags[] = {
    {"CLONE_NEWNS", CLONE_NEWNS},   {"CLONE_NEWUTS", CLONE_NEWUTS},       {"CLONE_NEWIPC", CLONE_NEWIPC},
    {"CLONE_NEWPID", CLONE_NEWPID}, {"CLONE_NEWNET", CLONE_NEWNET},       {"CLONE_NEWCGROUP", CLONE_NEWCGROUP},
    {"CLONE_NEWUSER", CLONE_NEWUSER},
};

template <size_t N>
unsigned long FlagsFrom(Napi::Env env, const Napi::Value& names, const NamedFlag (&table)[N]) {
  if (!names.IsArray()) throw Napi::TypeError::New(env, "flags must be an array of names");
  Napi::Array array = names.As<Napi::Array>();
  unsigned long flags = 0;
  for (uint32_t i = 0; i < array.Length(); i++) {
    std::string name = array.Get(i).ToString().Utf8Value();
    bool known = false;
    for (const NamedFlag& flag : table) {
      if (name == flag.name) {
        flags |= flag.value;
        known = true;
      }
    }
    if (!known) throw Napi::TypeError::New(env, "unknown flag " + name);
  }
  return flags;
}

}  // namespace

unsigned long MountFlags(Napi::Env env, const Napi::Value& names) { return FlagsFrom(env, names, kMountFlags); }
int Umount2Flags(Napi::Env env, const Napi::Value& names) { return (int)FlagsFrom(env, names, kUmountFlags); }
unsigned long CloneFlags(Napi::Env env, const Napi::Value& names) { return FlagsFrom(env, names, kCloneFlags); }

namespace {

std::string Str(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

int Int(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

// mount(source, target, fstype, flags[], data)
Napi::Value Mount(const Napi::CallbackInfo& info) {
  std::string source = Str(info, 0), target = Str(info, 1), fstype = Str(info, 2), data = Str(info, 4);
  unsigned long flags = MountFlags(info.Env(), info[3]);
  if (mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) != 0) {
    ThrowErrno(info.Env(), errno, "mount", target);
  }
  return info.Env().Undefined();
}

// umount2(target, flags[])
Napi::Value Umount2(const Napi::CallbackInfo& info) {
  std::string target = Str(info, 0);
  if (umount2(target.c_str(), Umount2Flags(info.Env(), info[1])) != 0) ThrowErrno(info.Env(), errno, "umount2", target);
  return info.Env().Undefined();
}

// #region unshare-netns
// unshare_CLONE_NEWNET(file): a new network namespace, kept alive by a bind mount on `file` (what `ip netns add`
// and `unshare --net=FILE` do, without starting a process). unshare(2) moves only the calling thread into the new
// namespace, so a short-lived thread makes it, bind-mounts its own /proc/thread-self/ns/net on the file and ends:
// Node's threads never leave the host's namespace, and the mount alone keeps the new one.
Napi::Value UnshareNewnet(const Napi::CallbackInfo& info) {
  std::string file = Str(info, 0);
  int err = 0;
  const char* failed = nullptr;
  std::thread([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      err = errno, failed = "unshare";
    } else if (mount("/proc/thread-self/ns/net", file.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      err = errno, failed = "mount";
    }
  }).join();
  if (failed) ThrowErrno(info.Env(), err, failed, file);
  return info.Env().Undefined();
}
// #endregion

// #region socket-in-netns
// socket_in_netns(file, type) -> fd: socket(AF_INET, type) made in the network namespace kept at `file`. A socket
// belongs to the namespace it was made in for its whole life, so a short-lived thread joins that namespace (setns
// changes the calling thread's only), makes it and ends: a user network's name server listens inside a container's
// namespace, at 127.0.0.11 as Docker's does, without ever leaving the host's.
Napi::Value SocketInNetns(const Napi::CallbackInfo& info) {
  std::string file = Str(info, 0);
  std::string type = Str(info, 1);
  int kind = type == "SOCK_DGRAM" ? SOCK_DGRAM : type == "SOCK_STREAM" ? SOCK_STREAM : -1;
  if (kind < 0) throw Napi::TypeError::New(info.Env(), "type must be SOCK_DGRAM or SOCK_STREAM");
  int fd = -1, err = 0;
  const char* failed = nullptr;
  std::thread([&] {
    int ns = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
      err = errno, failed = "open";
      return;
    }
    if (setns(ns, CLONE_NEWNET) != 0) {
      err = errno, failed = "setns";
    } else if ((fd = socket(AF_INET, kind | SOCK_CLOEXEC, 0)) < 0) {
      err = errno, failed = "socket";
    }
    close(ns);
  }).join();
  if (failed) ThrowErrno(info.Env(), err, failed, file);
  return Napi::Number::New(info.Env(), fd);
}
// #endregion

// bind(fd, address, port): an AF_INET socket bound to address:port.
Napi::Value Bind(const Napi::CallbackInfo& info) {
  std::string address = Str(info, 1);
  struct sockaddr_in at = {};
  at.sin_family = AF_INET;
  at.sin_port = htons((uint16_t)Int(info, 2));
  if (inet_pton(AF_INET, address.c_str(), &at.sin_addr) != 1) throw Napi::TypeError::New(info.Env(), "address must be an IPv4 address");
  if (bind(Int(info, 0), reinterpret_cast<struct sockaddr*>(&at), sizeof(at)) != 0) {
    ThrowErrno(info.Env(), errno, "bind", address + ":" + std::to_string(Int(info, 2)));
  }
  return info.Env().Undefined();
}

// openat2(dirfd, path, flags[], resolve[]) -> fd: a path opened from a directory under the rules of
// `resolve` (linux/openat2.h), e.g. never through a symlink, never out of the directory.
Napi::Value Openat2(const Napi::CallbackInfo& info) {
  std::string path = Str(info, 1);
  int fd = OpenResolved(Int(info, 0), path.c_str(), FlagsFrom(info.Env(), info[2], kOpenFlags), 0, FlagsFrom(info.Env(), info[3], kResolveFlags));
  if (fd < 0) ThrowErrno(info.Env(), errno, "openat2", path);
  return Napi::Number::New(info.Env(), (double)fd);
}

// mknod(path, mode, major, minor)
Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string path = Str(info, 0);
  if (mknod(path.c_str(), (mode_t)Int(info, 1), makedev(Int(info, 2), Int(info, 3))) != 0) {
    ThrowErrno(info.Env(), errno, "mknod", path);
  }
  return info.Env().Undefined();
}

// lsetxattr(path, name, value)
Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  std::string path = Str(info, 0), name = Str(info, 1);
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) != 0) {
    ThrowErrno(info.Env(), errno, "lsetxattr", path);
  }
  return info.Env().Undefined();
}

// lgetxattr(path, name): a Buffer, or null when the attribute is not set
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  std::string path = Str(info, 0), name = Str(info, 1);
  ssize_t size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENODATA) return info.Env().Null();
    ThrowErrno(info.Env(), errno, "lgetxattr", path);
  }
  std::vector<char> value(size);
  size = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
  if (size < 0) ThrowErrno(info.Env(), errno, "lgetxattr", path);
  return Napi::Buffer<char>::Copy(info.Env(), value.data(), size);
}

// llistxattr(path): the attribute names
Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  std::string path = Str(info, 0);
  ssize_t size = llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) ThrowErrno(info.Env(), errno, "llistxattr", path);
  std::vector<char> names(size);
  size = llistxattr(path.c_str(), names.data(), names.size());
  if (size < 0) ThrowErrno(info.Env(), errno, "llistxattr", path);
  Napi::Array out = Napi::Array::New(info.Env());
  for (ssize_t start = 0; start < size;) {
    std::string name(names.data() + start);
    out.Set(out.Length(), name);
    start += name.size() + 1;
  }
  return out;
}

// flock(fd, 'LOCK_EX' | 'LOCK_SH' | 'LOCK_UN', nonBlocking): false when it would block
Napi::Value Flock(const Napi::CallbackInfo& info) {
  std::string op = Str(info, 1);
  int operation = op == "LOCK_EX" ? LOCK_EX : op == "LOCK_SH" ? LOCK_SH : op == "LOCK_UN" ? LOCK_UN : -1;
  if (operation < 0) throw Napi::TypeError::New(info.Env(), "unknown flock operation " + op);
  if (info[2].ToBoolean()) operation |= LOCK_NB;
  if (flock(Int(info, 0), operation) != 0) {
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), errno, "flock");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// pipe2(O_CLOEXEC): [read end, write end]
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) ThrowErrno(info.Env(), errno, "pipe2");
  Napi::Array ends = Napi::Array::New(info.Env(), 2);
  ends.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  ends.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return ends;
}

// recvmsg with SCM_RIGHTS: receives one file descriptor (the pty master from the container)
Napi::Value Recvfd(const Napi::CallbackInfo& info) {
  int fd = ReceiveFd(Int(info, 0));
  if (fd < 0) ThrowErrno(info.Env(), errno, "recvmsg");
  return Napi::Number::New(info.Env(), fd);
}

// socket(AF_UNIX, SOCK_STREAM) connected to path: the caller's console socket (tsrun-oci --console-socket).
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) ThrowErrno(info.Env(), ENAMETOOLONG, "connect", path);
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) ThrowErrno(info.Env(), errno, "socket");
  int rc;
  do rc = connect(sock, reinterpret_cast<struct sockaddr*>(&address), sizeof(address));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    close(sock);
    ThrowErrno(info.Env(), err, "connect", path);
  }
  return Napi::Number::New(info.Env(), sock);
}

// sendmsg(SCM_RIGHTS): one file descriptor over a unix socket, with `name` as the message's bytes (runc sends the
// terminal's name with its master; containerd reads both).
Napi::Value Sendfd(const Napi::CallbackInfo& info) {
  int sock = Int(info, 0);
  int fd = Int(info, 1);
  std::string name = info[2].As<Napi::String>().Utf8Value();
  struct iovec iov = {&name[0], name.size()};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  ssize_t sent;
  do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) ThrowErrno(info.Env(), errno, "sendmsg");
  return info.Env().Undefined();
}

// ioctl(fd, TIOCSWINSZ, {rows, cols})
Napi::Value IoctlTiocswinsz(const Napi::CallbackInfo& info) {
  struct winsize size = {};
  size.ws_row = (unsigned short)Int(info, 1);
  size.ws_col = (unsigned short)Int(info, 2);
  if (ioctl(Int(info, 0), TIOCSWINSZ, &size) != 0) ThrowErrno(info.Env(), errno, "ioctl");
  return info.Env().Undefined();
}

// tcgetattr(fd): the terminal's settings, as the bytes of a struct termios
Napi::Value Tcgetattr(const Napi::CallbackInfo& info) {
  struct termios settings;
  if (tcgetattr(Int(info, 0), &settings) != 0) ThrowErrno(info.Env(), errno, "tcgetattr");
  return Napi::Buffer<char>::Copy(info.Env(), reinterpret_cast<char*>(&settings), sizeof(settings));
}

// tcsetattr(fd, settings): apply settings from tcgetattr or cfmakeraw, after pending output is written
Napi::Value Tcsetattr(const Napi::CallbackInfo& info) {
  Napi::Buffer<char> settings = info[1].As<Napi::Buffer<char>>();
  if (settings.Length() != sizeof(struct termios)) throw Napi::TypeError::New(info.Env(), "not a struct termios");
  if (tcsetattr(Int(info, 0), TCSADRAIN, reinterpret_cast<struct termios*>(settings.Data())) != 0) {
    ThrowErrno(info.Env(), errno, "tcsetattr");
  }
  return info.Env().Undefined();
}

// cfmakeraw(settings): a copy with input and output processing off, as a terminal relay needs
Napi::Value Cfmakeraw(const Napi::CallbackInfo& info) {
  Napi::Buffer<char> settings = info[0].As<Napi::Buffer<char>>();
  if (settings.Length() != sizeof(struct termios)) throw Napi::TypeError::New(info.Env(), "not a struct termios");
  struct termios raw;
  memcpy(&raw, settings.Data(), sizeof(raw));
  cfmakeraw(&raw);
  return Napi::Buffer<char>::Copy(info.Env(), reinterpret_cast<char*>(&raw), sizeof(raw));
}

// waitpid(pid, callback): waits on a thread of its own, then calls back on
// Node's thread with (error, {code, signal}), so the event loop never blocks.
Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  pid_t pid = Int(info, 0);
  auto callback = Napi::ThreadSafeFunction::New(info.Env(), info[1].As<Napi::Function>(), "waitpid", 0, 1);
  std::thread([pid, callback]() mutable {
    int status = 0;
    pid_t got;
    do got = waitpid(pid, &status, __WALL);
    while (got < 0 && errno == EINTR);
    int err = got < 0 ? errno : 0;
    callback.BlockingCall([err, status](Napi::Env env, Napi::Function js) {
      if (err) {
        Napi::Error error = Napi::Error::New(env, std::string("waitpid: ") + ErrnoName(err));
        error.Set("code", Napi::String::New(env, ErrnoName(err)));
        error.Set("errno", Napi::Number::New(env, -err));
        error.Set("syscall", Napi::String::New(env, "waitpid"));
        js.Call({error.Value(), env.Null()});
        return;
      }
      Napi::Object result = Napi::Object::New(env);
      result.Set("code", WIFEXITED(status) ? Napi::Value(Napi::Number::New(env, WEXITSTATUS(status))) : env.Null());
      result.Set("signal", WIFSIGNALED(status) ? Napi::Value(Napi::String::New(env, std::string("SIG") + sigabbrev_np(WTERMSIG(status))))
                                               : env.Null());
      js.Call({env.Null(), result});
    });
    callback.Release();
  }).detach();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object InitSyscalls(Napi::Env env, Napi::Object exports) {
  exports.Set("mount", Napi::Function::New(env, Mount, "mount"));
  exports.Set("umount2", Napi::Function::New(env, Umount2, "umount2"));
  exports.Set("unshare_CLONE_NEWNET", Napi::Function::New(env, UnshareNewnet, "unshare_CLONE_NEWNET"));
  exports.Set("socket_in_netns", Napi::Function::New(env, SocketInNetns, "socket_in_netns"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("mknod", Napi::Function::New(env, Mknod, "mknod"));
  exports.Set("openat2", Napi::Function::New(env, Openat2, "openat2"));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr, "lsetxattr"));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr, "llistxattr"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("recvfd", Napi::Function::New(env, Recvfd, "recvfd"));
  exports.Set("connect_unix", Napi::Function::New(env, ConnectUnix, "connect_unix"));
  exports.Set("sendfd", Napi::Function::New(env, Sendfd, "sendfd"));
  exports.Set("ioctl_TIOCSWINSZ", Napi::Function::New(env, IoctlTiocswinsz, "ioctl_TIOCSWINSZ"));
  exports.Set("tcgetattr", Napi::Function::New(env, Tcgetattr, "tcgetattr"));
  exports.Set("tcsetattr", Napi::Function::New(env, Tcsetattr, "tcsetattr"));
  exports.Set("cfmakeraw", Napi::Function::New(env, Cfmakeraw, "cfmakeraw"));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid, "waitpid"));
  return exports;
}

}  // namespace tsrun
