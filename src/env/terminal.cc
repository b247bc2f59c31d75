// Password prompts on a terminal (see terminal.h).
//
// Design note: echo stays off only while we wait for the line. A signal that
// would end the process in that window (Ctrl-C, a hang-up, kill) must not
// leave the user's shell without echo, so for the duration we install
// handlers that restore the saved settings with tcsetattr (async-signal-safe),
// put back the default action and raise the signal again. ISIG stays on, so
// Ctrl-C still cancels the prompt.
#include "env/terminal.h"

#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

namespace mailvault {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// What a handler needs to restore the terminal; set before the handlers are
// installed and cleared after they are removed.
volatile sig_atomic_t g_restore_fd = -1;
struct termios g_saved;

extern "C" void RestoreAndRaise(int sig) {
  const int saved_errno = errno;
  if (g_restore_fd >= 0) ::tcsetattr(g_restore_fd, TCSAFLUSH, &g_saved);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  errno = saved_errno;
}

Status IoError(const char* what, int err) {
  return Status::IOError(std::string(what) + " the terminal: " + std::strerror(err));
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write to", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads up to the line end or end of input into *out; *too_long when more
// than max_bytes came (those are dropped). Bytes are read one at a time so
// nothing after the line end is consumed.
Status ReadLine(int fd, size_t max_bytes, std::string* out, bool* eof, bool* too_long) {
  *eof = false;
  *too_long = false;
  for (;;) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("read from", errno);
    }
    if (n == 0) {
      *eof = true;
      return Status::Ok();
    }
    if (c == '\n') return Status::Ok();
    if (out->size() < max_bytes) {
      out->push_back(c);
    } else {
      *too_long = true;
    }
  }
}

void Wipe(std::string* s) {
  ::explicit_bzero(s->data(), s->size());
  s->clear();
}

}  // namespace

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

Result<std::string> ReadPasswordFromTerminal(int fd, int prompt_fd, std::string_view prompt,
                                             size_t max_bytes) {
  struct termios saved;
  if (::tcgetattr(fd, &saved) != 0) {
    if (errno == ENOTTY || errno == EBADF) {
      return Status::InvalidArgument("not a terminal");
    }
    return IoError("read the settings of", errno);
  }
  struct termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);

  // Handlers first, so no moment has echo off without them.
  g_saved = saved;
  g_restore_fd = fd;
  struct sigaction old[std::size(kSignals)];
  bool installed[std::size(kSignals)] = {};
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    if (::sigaction(kSignals[i], nullptr, &old[i]) != 0 || old[i].sa_handler == SIG_IGN) continue;
    struct sigaction sa = {};
    sa.sa_handler = RestoreAndRaise;
    ::sigemptyset(&sa.sa_mask);
    installed[i] = ::sigaction(kSignals[i], &sa, nullptr) == 0;
  }
  auto restore_handlers = [&] {
    for (size_t i = 0; i < std::size(kSignals); ++i) {
      if (installed[i]) ::sigaction(kSignals[i], &old[i], nullptr);
    }
    g_restore_fd = -1;
  };

  if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
    const int err = errno;
    restore_handlers();
    return IoError("turn off echo on", err);
  }
  std::string line;
  line.reserve(max_bytes + 1);  // no reallocation leaves a copy behind
  bool eof = false, too_long = false;
  Status s = WriteAll(prompt_fd, prompt);
  if (s.ok()) s = ReadLine(fd, max_bytes, &line, &eof, &too_long);
  // The Enter (or Ctrl-D) was not echoed; end the prompt's line.
  Status nl = WriteAll(prompt_fd, "\n");
  const bool reset = ::tcsetattr(fd, TCSAFLUSH, &saved) == 0;
  const int reset_errno = errno;
  restore_handlers();

  if (s.ok() && !reset) s = IoError("restore the settings of", reset_errno);
  if (s.ok()) s = nl;
  if (s.ok() && too_long) {
    s = Status::InvalidArgument("the line typed is longer than " + std::to_string(max_bytes) +
                                " bytes");
  }
  if (s.ok() && eof && line.empty()) s = Status::NotFound("end of input: nothing was typed");
  if (!s.ok()) {
    Wipe(&line);
    return s;
  }
  return line;
}

}  // namespace mailvault
