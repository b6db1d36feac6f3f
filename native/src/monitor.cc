// tsrun-monitor: the parent of a detached container (`tsrun run -d`), like
// podman's conmon or containerd's shim. A process can only be waited for by
// its parent, and tsrun itself exits as soon as the container has started, so
// something small has to stay: this program. It
//
//   1. reads the child's steps from its standard input (encoded by tsrun),
//   2. starts its own session, so the terminal tsrun ran in can go away,
//   3. clones the container's child, which runs the steps (child.cc) and ends in
//      tsrun-exec (exec.c), from a sealed copy in memory the monitor makes first,
//   4. tells tsrun on the sync descriptor: "pid N", then "started" once execve
//      succeeded, or "failed STEP ERRNO" if a step failed,
//   5. copies the container's stdout and stderr into its log, one JSON line per
//      line of output, as Docker's json-file driver writes them, rotating the file
//      when it grows past a size,
//   6. and when the container exits, writes its exit status to a file and
//      becomes the exit command (execv), which is tsrun again: it records the
//      exit and frees the network, the cgroup and the rest.
//
// Usage: tsrun-monitor LOG_FILE MAX_LOG_BYTES EXIT_FILE SYNC_FD STDIN STDIN_ONCE CONSOLE -- EXIT_COMMAND...
// STDIN is "-" (the container reads /dev/null) or a FIFO that `tsrun attach` writes into (`run -d -i`).
// STDIN_ONCE is "once" when the container's input ends with the first writer's (Docker's StdinOnce, which
// `docker run -i` sets), else "kept": writers may come and go, and the container sees no end of its input.
// CONSOLE is "-", or, for a container with a terminal (`run -d -t`), a FIFO of "ROWS COLS" lines, its size: the
// child's open_pty step sends the monitor the pty's master, whose output goes to the log as stdout, and into
// which the monitor copies what comes on STDIN.
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

// Docker cuts a line longer than this into parts, each a log entry of its own.
constexpr size_t kMaxLineBytes = 16 * 1024;

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "tsrun-monitor: %s: %s\n", what, strerror(errno));
  exit(125);
}

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a log we cannot write must not stop the container
    done += (size_t)n;
  }
}

std::string ReadAll(int fd) {
  std::string bytes;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return bytes;
    bytes.append(buffer, (size_t)n);
  }
}

// "2026-11-23T12:00:00.123456789Z": RFC 3339 in UTC with nanoseconds, as Docker writes "time".
std::string Now() {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm utc;
  gmtime_r(&now.tv_sec, &utc);
  char text[64];
  snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
           utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec);
  return text;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += (char)c;
    }
  }
  return out + "\"";
}

// The container's log: json-file lines, rotated to LOG_FILE.1 when it passes its size.
class Log {
 public:
  Log(std::string path, long long max_bytes) : path_(std::move(path)), max_bytes_(max_bytes) { Open(); }

  void Entry(const char* stream, const std::string& line) {
    std::string json = "{\"log\":" + JsonString(line) + ",\"stream\":\"" + stream + "\",\"time\":\"" + Now() + "\"}\n";
    if (max_bytes_ > 0 && size_ + (long long)json.size() > max_bytes_ && size_ > 0) Rotate();
    WriteAll(fd_, json);
    size_ += (long long)json.size();
  }

 private:
  void Open() {
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) Die("open the log");
    struct stat st;
    size_ = fstat(fd_, &st) == 0 ? st.st_size : 0;
  }
  void Rotate() {
    close(fd_);
    rename(path_.c_str(), (path_ + ".1").c_str());
    Open();
  }

  std::string path_;
  long long max_bytes_;
  int fd_ = -1;
  long long size_ = 0;
};

// One of the container's output pipes, cut into lines for the log.
struct Stream {
  enum class Read { Data, Nothing, Closed };

  const char* name;
  int fd;
  std::string pending;

  Read Drain(Log& log) {
    char buffer[65536];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return Read::Nothing;
    if (n <= 0) {
      Close(log);
      return Read::Closed;
    }
    pending.append(buffer, (size_t)n);
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos || pending.size() >= kMaxLineBytes) {
      size_t cut = newline == std::string::npos ? kMaxLineBytes : newline + 1;
      log.Entry(name, pending.substr(0, cut));
      pending.erase(0, cut);
    }
    return Read::Data;
  }

  void Close(Log& log) {
    if (!pending.empty()) log.Entry(name, pending);  // a last line without its newline
    pending.clear();
    close(fd);
    fd = -1;
  }
};

}  // namespace

// The terminal's size, from "ROWS COLS" lines on the console FIFO (`docker resize`, a terminal that attaches).
void Resize(int console, int master, std::string& pending) {
  char buffer[256];
  ssize_t n;
  while ((n = read(console, buffer, sizeof(buffer))) > 0) pending.append(buffer, (size_t)n);
  size_t newline;
  while ((newline = pending.find('\n')) != std::string::npos) {
    struct winsize size = {};
    unsigned rows = 0, cols = 0;
    if (sscanf(pending.substr(0, newline).c_str(), "%u %u", &rows, &cols) == 2 && rows > 0 && cols > 0) {
      size.ws_row = (unsigned short)rows;
      size.ws_col = (unsigned short)cols;
      ioctl(master, TIOCSWINSZ, &size);
    }
    pending.erase(0, newline + 1);
  }
}

// What a writer put into the STDIN FIFO, copied into the terminal: the container reads it from its pty.
void CopyInput(int from, int to) {
  char buffer[4096];
  ssize_t n;
  while ((n = read(from, buffer, sizeof(buffer))) > 0) WriteAll(to, std::string(buffer, (size_t)n));
}

int main(int argc, char** argv) {
  if (argc < 10 || strcmp(argv[8], "--") != 0) {
    fprintf(stderr, "usage: tsrun-monitor LOG_FILE MAX_LOG_BYTES EXIT_FILE SYNC_FD STDIN STDIN_ONCE CONSOLE -- EXIT_COMMAND...\n");
    return 125;
  }
  const char* log_path = argv[1];
  long long max_log_bytes = atoll(argv[2]);
  std::string exit_file = argv[3];
  int sync = atoi(argv[4]);
  const char* stdin_path = argv[5];
  bool stdin_once = strcmp(argv[6], "once") == 0;
  const char* console_path = argv[7];
  bool terminal = strcmp(console_path, "-") != 0;
  char** exit_command = argv + 9;

  unsigned long clone_flags = 0;
  std::string exec_helper_path;
  std::vector<tsrun::Step> steps;
  if (!tsrun::DecodeSpawn(ReadAll(0), &clone_flags, &exec_helper_path, &steps)) {
    fprintf(stderr, "tsrun-monitor: the steps on standard input are not readable\n");
    return 125;
  }
  // tsrun starts it detached (already a session of its own); started by hand, it makes one.
  if (getsid(0) != getpid() && setsid() < 0) Die("setsid");
  Log log(log_path, max_log_bytes);

  // SIGCHLD arrives as a readable descriptor, next to the output pipes, in one poll().
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, nullptr) != 0) Die("sigprocmask");
  int child_exits = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (child_exits < 0) Die("signalfd");

  int out[2], err[2], error_pipe[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(error_pipe, O_CLOEXEC) != 0) Die("pipe2");
  const char* failed = nullptr;
  int exec_helper = tsrun::SealedCopy(exec_helper_path.c_str(), &failed);
  if (exec_helper < 0) Die(failed);
  tsrun::PlanExecve(steps, error_pipe[1]);
  size_t times_length = (tsrun::kFirstStepSlot + steps.size() + 1) * sizeof(int64_t);
  void* times = mmap(nullptr, times_length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (times == MAP_FAILED) Die("mmap");

  tsrun::ChildContext ctx;
  ctx.steps = &steps;
  ctx.times = static_cast<int64_t*>(times);
  // A FIFO's reader sees end-of-file once no writer has it open. The container gets a read-only end; the
  // monitor holds a writing end (opened first: on Linux a FIFO opened for both never waits for a partner, and
  // then the reader's open does not wait either), so that no end-of-file comes before an attach writes, nor
  // between two attaches. With STDIN_ONCE it lets go of it when the first writer closes the FIFO (inotify
  // tells): the container reads what is left, then end-of-file, and `echo hi | docker run -i … cat` ends.
  // With a terminal the container reads its pty, not the FIFO: the monitor reads the FIFO (stdin_reader) and
  // copies what comes into the pty.
  int stdin_keeper = -1;
  int stdin_closed = -1;
  int stdin_reader = -1;
  ctx.stdio[0] = -1;
  if (strcmp(stdin_path, "-") != 0) {
    stdin_keeper = open(stdin_path, O_RDWR | O_CLOEXEC);
    if (stdin_keeper < 0) Die("open the container's stdin");
    int reader = open(stdin_path, O_RDONLY | O_CLOEXEC | (terminal ? O_NONBLOCK : 0));
    if (reader < 0) Die("open the container's stdin");
    (terminal ? stdin_reader : ctx.stdio[0]) = reader;
    if (stdin_once) {
      stdin_closed = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
      if (stdin_closed < 0 || inotify_add_watch(stdin_closed, stdin_path, IN_CLOSE_WRITE) < 0) Die("watch the container's stdin");
    }
  }
  int console[2] = {-1, -1};
  int console_size = -1;
  if (terminal) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) != 0) Die("socketpair");
    // Read and write: the FIFO then never reports an end when a resize's writer closes it.
    console_size = open(console_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (console_size < 0) Die("open the console FIFO");
  }
  ctx.stdio[1] = terminal ? -1 : out[1];
  ctx.stdio[2] = terminal ? -1 : err[1];
  ctx.error_write = error_pipe[1];
  ctx.exec_helper = exec_helper;
  ctx.console_child = console[1];
  ctx.parent_ends[0] = error_pipe[0];
  ctx.parent_ends[1] = out[0];
  ctx.die_with_parent = false;  // the container outlives its monitor if the monitor is killed

  // The child must not start with SIGCHLD blocked: RunChild resets the mask, but not before clone returns.
  long pid = syscall(SYS_clone, clone_flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) {
    close(err[0]);
    tsrun::RunChild(ctx);
  }
  if (pid < 0) Die("clone");
  for (int fd : {out[1], err[1], error_pipe[1], exec_helper, ctx.stdio[0], console[1]}) {
    if (fd >= 0) close(fd);
  }

  WriteAll(sync, "pid " + std::to_string(pid) + "\n");
  int32_t failure[2];
  ssize_t got;
  do got = read(error_pipe[0], failure, sizeof(failure));
  while (got < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (got == (ssize_t)sizeof(failure)) {
    WriteAll(sync, "failed " + std::to_string(failure[0]) + " " + std::to_string(failure[1]) + "\n");
    waitpid((pid_t)pid, nullptr, 0);
    return 125;  // tsrun, still waiting on the sync descriptor, reports the failure and cleans up
  }
  // #region terminal
  // The child's open_pty step sent the master before its execve: it waits on the socket.
  int master = -1;
  if (terminal) {
    master = tsrun::ReceiveFd(console[0]);
    if (master < 0) Die("receive the terminal");
    close(console[0]);
    fcntl(master, F_SETFL, O_NONBLOCK);
    for (int fd : {out[0], err[0]}) close(fd);
  }
  WriteAll(sync, "started\n");
  close(sync);

  // A terminal has one stream: all the container writes to it is the log's stdout, as Docker logs it.
  Stream streams[2] = {{"stdout", terminal ? master : out[0], ""}, {"stderr", terminal ? -1 : err[0], ""}};
  // #endregion
  std::string size_pending;
  int status = 0;
  bool exited = false;
  // Until the container has exited and both pipes are closed (a process it left behind may hold them open
  // a while; once the container is gone, what is left in them is drained and they are closed).
  while (!exited || streams[0].fd >= 0 || streams[1].fd >= 0) {
    struct pollfd fds[6] = {
        {child_exits, POLLIN, 0}, {streams[0].fd, POLLIN, 0}, {streams[1].fd, POLLIN, 0}, {stdin_closed, POLLIN, 0},
        {stdin_reader, POLLIN, 0}, {console_size, POLLIN, 0}};
    if (poll(fds, 6, exited ? 0 : -1) < 0 && errno != EINTR) Die("poll");
    // The master is the first stream's descriptor until the terminal closes (the stream closes it then).
    int pty = terminal ? streams[0].fd : -1;
    if (fds[4].revents & POLLIN && pty >= 0) CopyInput(stdin_reader, pty);
    if (fds[5].revents & POLLIN && pty >= 0) Resize(console_size, pty, size_pending);
    if (fds[3].revents & POLLIN) {  // the first writer is gone: so is the container's input, once it is read
      if (stdin_reader >= 0 && pty >= 0) CopyInput(stdin_reader, pty);
      for (int fd : {stdin_closed, stdin_keeper, stdin_reader}) {
        if (fd >= 0) close(fd);
      }
      stdin_closed = stdin_keeper = stdin_reader = -1;
    }
    for (int i = 0; i < 2; i++) {
      if (streams[i].fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) streams[i].Drain(log);
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(child_exits, &info, sizeof(info)) > 0) {
      }
      if (!exited && waitpid((pid_t)pid, &status, WNOHANG) == (pid_t)pid) exited = true;
    }
    if (exited) {
      // Nothing more will be waited for: what the pipes still hold is the end of the log.
      for (Stream& stream : streams) {
        if (stream.fd < 0) continue;
        fcntl(stream.fd, F_SETFL, O_NONBLOCK);
        while (stream.Drain(log) == Stream::Read::Data) {
        }
        if (stream.fd >= 0) stream.Close(log);
      }
    }
  }

  // "CODE SIGNAL": the exit code, or 128 + the signal that killed it, and that signal (0 if none).
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  std::string partial = exit_file + ".partial";
  int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    WriteAll(fd, std::to_string(code) + " " + std::to_string(signal) + " " + Now() + "\n");
    close(fd);
    rename(partial.c_str(), exit_file.c_str());
  }
  sigprocmask(SIG_UNBLOCK, &chld, nullptr);
  execv(exit_command[0], exit_command);
  Die("execv the exit command");
}
