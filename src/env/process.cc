// RunProcess and SelfExecutablePath (see process.h).
//
// Design note. One poll loop watches three descriptors: the child's stdin
// (while input is left), its stdout (until EOF) and a pidfd (readable once
// the child has exited), so a child that stops reading, floods its output,
// closes its stdout and keeps running, or never exits, all meet the same
// deadline. The pipes are created close-on-exec and the child's file actions
// close every descriptor from 3 up (closefrom), so neither another thread's
// concurrent spawn nor a descriptor some library opened without O_CLOEXEC
// reaches the child. The child is not reaped before it is killed or has
// exited, so its pid cannot be reused under the kill.
#include "env/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace mailvault {
namespace {

int64_t MonotonicMicros() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

Status Errno(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}

// Closes a descriptor once; -1 means closed.
void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// Owns the descriptors of one run, closed on every return path.
struct Fds {
  int in_read = -1, in_write = -1, out_read = -1, out_write = -1, pidfd = -1;
  ~Fds() {
    for (int* fd : {&in_read, &in_write, &out_read, &out_write, &pidfd}) CloseFd(fd);
  }
};

// The spawn attributes and file actions, destroyed on every return path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  bool have_actions = false, have_attr = false;
  ~SpawnSetup() {
    if (have_actions) posix_spawn_file_actions_destroy(&actions);
    if (have_attr) posix_spawnattr_destroy(&attr);
  }
};

Result<pid_t> Spawn(const ProcessOptions& options, Fds& fds) {
  SpawnSetup s;
  int err = posix_spawn_file_actions_init(&s.actions);
  if (err != 0) return Errno("posix_spawn_file_actions_init", err);
  s.have_actions = true;
  err = posix_spawnattr_init(&s.attr);
  if (err != 0) return Errno("posix_spawnattr_init", err);
  s.have_attr = true;
  // dup2 clears close-on-exec on the copy; the originals (>= 3) go with
  // closefrom.
  if ((err = posix_spawn_file_actions_adddup2(&s.actions, fds.in_read, 0)) != 0 ||
      (err = posix_spawn_file_actions_adddup2(&s.actions, fds.out_write, 1)) != 0 ||
      (err = posix_spawn_file_actions_addopen(&s.actions, 2, "/dev/null", O_WRONLY, 0)) != 0 ||
      (err = posix_spawn_file_actions_addchdir_np(&s.actions, "/")) != 0 ||
      (err = posix_spawn_file_actions_addclosefrom_np(&s.actions, 3)) != 0) {
    return Errno("posix_spawn file actions", err);
  }
  // The daemon blocks its stop signals and ignores SIGPIPE; the child gets
  // neither.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  if ((err = posix_spawnattr_setsigmask(&s.attr, &none)) != 0 ||
      (err = posix_spawnattr_setsigdefault(&s.attr, &all)) != 0 ||
      (err = posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) !=
          0) {
    return Errno("posix_spawn attributes", err);
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(options.path.c_str()));
  for (const std::string& a : options.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  pid_t pid = -1;
  err = posix_spawn(&pid, options.path.c_str(), &s.actions, &s.attr, argv.data(), envp);
  if (err != 0) return Errno("start " + options.path, err);
  return pid;
}

// Blocks SIGPIPE for the calling thread while it lives (a write to a child
// that exited raises it on this thread), and drops one that became pending.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) && !sigismember(&old_, SIGPIPE)) {
      struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_, old_;
};

// Reaps `pid`, filling in how it ended.
void Reap(pid_t pid, ProcessResult* result) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result->exited = true;
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->signal = WTERMSIG(status);
  }
}

}  // namespace

Result<ProcessResult> RunProcess(const ProcessOptions& options, std::string_view input) {
  const int64_t deadline = MonotonicMicros() + options.timeout_micros;
  Fds fds;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Errno("pipe", errno);
  fds.in_read = in[0];
  fds.in_write = in[1];
  if (::pipe2(out, O_CLOEXEC) != 0) return Errno("pipe", errno);
  fds.out_read = out[0];
  fds.out_write = out[1];

  MV_ASSIGN_OR_RETURN(pid_t pid, Spawn(options, fds));
  CloseFd(&fds.in_read);
  CloseFd(&fds.out_write);
  ProcessResult result;
  fds.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fds.pidfd < 0) {
    int err = errno;
    ::kill(pid, SIGKILL);
    Reap(pid, &result);
    return Errno("pidfd_open", err);
  }
  ::fcntl(fds.in_write, F_SETFL, O_NONBLOCK);
  ::fcntl(fds.out_read, F_SETFL, O_NONBLOCK);
  if (input.empty()) CloseFd(&fds.in_write);

  NoSigpipe no_sigpipe;
  size_t written = 0;
  bool exited = false;
  char buf[65536];
  while (fds.out_read >= 0 || !exited) {
    const int64_t left = deadline - MonotonicMicros();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    struct pollfd p[3];
    nfds_t n = 0;
    int in_at = -1, out_at = -1, pid_at = -1;
    if (fds.in_write >= 0) {
      p[n] = {fds.in_write, POLLOUT, 0};
      in_at = static_cast<int>(n++);
    }
    if (fds.out_read >= 0) {
      p[n] = {fds.out_read, POLLIN, 0};
      out_at = static_cast<int>(n++);
    }
    if (!exited) {
      p[n] = {fds.pidfd, POLLIN, 0};
      pid_at = static_cast<int>(n++);
    }
    const int64_t wait_ms = (left + 999) / 1000;
    int ready = ::poll(p, n, wait_ms > INT_MAX ? INT_MAX : static_cast<int>(wait_ms));
    if (ready < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::kill(pid, SIGKILL);
      Reap(pid, &result);
      return Errno("poll", err);
    }
    if (in_at >= 0 && p[in_at].revents != 0) {
      ssize_t w = ::write(fds.in_write, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      // EPIPE (or POLLERR): the child stopped reading; what it does with
      // the short input is its answer.
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        CloseFd(&fds.in_write);
      }
    }
    if (out_at >= 0 && p[out_at].revents != 0) {
      ssize_t r = ::read(fds.out_read, buf, sizeof buf);
      if (r > 0) {
        size_t room = options.max_output - result.output.size();
        if (static_cast<size_t>(r) > room) {
          result.output.append(buf, room);
          result.output_overflow = true;
          break;
        }
        result.output.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        CloseFd(&fds.out_read);
      }
    }
    if (pid_at >= 0 && p[pid_at].revents != 0) exited = true;
  }
  if (result.timed_out || result.output_overflow) ::kill(pid, SIGKILL);
  Reap(pid, &result);
  return result;
}

Result<std::string> SelfExecutablePath() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return Errno("readlink /proc/self/exe", n < 0 ? errno : ENOENT);
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace mailvault
