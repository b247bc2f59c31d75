// mailvault-preview: sanitizes one mail's HTML in a process of its own.
//
// The daemon (preview/sandboxed.h) starts it per preview with a request
// (helper_protocol.h) on stdin and reads the reply on stdout. Before it
// reads a byte it shuts itself in (env/sandbox.h: descriptors above 2
// closed, no core, rlimits, a seccomp filter allowing read on stdin, write
// on stdout, exit and malloc's memory calls), so HTML that exploits the
// parser finds a process holding no key, no descriptor of the data dir, no
// way to open, connect or start anything, and a few seconds of CPU.
//
//   mailvault-preview [--memory=BYTES] [--cpu=SECONDS] [--max-input=BYTES]
//
// Exit status: 0 the reply was written; 2 bad arguments; 3 the confinement
// failed (nothing was read); 4 the input was larger than --max-input; 5 the
// request was malformed; 6 out of memory. Killed by SIGSYS: it tried a
// forbidden call; by SIGXCPU/SIGKILL: out of CPU time.
//
// --try-forbidden=open|socket|stderr (tests only) makes that call after the
// confinement, where it must kill the process; if it does not, the program
// exits 0 and says so on stdout, which tests treat as a failure.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

#include "env/sandbox.h"
#include "preview/helper_protocol.h"
#include "preview/sanitize.h"

namespace {

namespace preview = mailvault::preview;

enum Exit { kOk = 0, kUsage = 2, kConfine = 3, kTooLarge = 4, kBadRequest = 5, kNoMemory = 6 };

bool Flag(std::string_view arg, std::string_view name, uint64_t* value) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  std::string_view v = arg.substr(name.size() + 1);
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *value);
  return ec == std::errc() && end == v.data() + v.size() && *value > 0;
}

// Writes all of `data` to stdout; false if stdout went away.
bool WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(1, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The forbidden call a test asks for; returns only if it was allowed.
void TryForbidden(std::string_view what) {
  if (what == "open") {
    int fd = ::open("/etc/hostname", O_RDONLY);
    WriteAll(fd >= 0 ? "open succeeded" : "open failed without killing");
  } else if (what == "socket") {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    WriteAll(fd >= 0 ? "socket succeeded" : "socket failed without killing");
  } else if (what == "stderr") {
    ssize_t n = ::write(2, "x", 1);
    WriteAll(n == 1 ? "stderr write succeeded" : "stderr write failed without killing");
  }
}

int Run(int argc, char** argv) {
  mailvault::ConfineOptions confine;
  uint64_t max_input = 80ull << 20;
  std::string_view forbidden;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (Flag(arg, "--memory", &confine.max_memory_bytes) ||
        Flag(arg, "--cpu", &confine.cpu_seconds) || Flag(arg, "--max-input", &max_input)) {
      continue;
    }
    if (arg.starts_with("--try-forbidden=")) {
      forbidden = arg.substr(16);
      continue;
    }
    return kUsage;
  }
  if (!mailvault::ConfineToPipes(confine).ok()) return kConfine;
  if (!forbidden.empty()) {
    TryForbidden(forbidden);
    return kOk;
  }

  std::string input;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    input.append(buf, static_cast<size_t>(n));
    if (input.size() > max_input) return kTooLarge;
  }
  auto request = preview::DecodeRequest(input);
  if (!request.ok()) return kBadRequest;
  input = std::string();

  preview::HelperReply reply;
  if (request->mode == preview::HelperRequest::Mode::kText) {
    reply.body = preview::HtmlToText(request->html);
  } else {
    preview::SanitizeOptions options;
    options.cid_images = &request->images;
    preview::SanitizedHtml clean = preview::SanitizeHtml(request->html, options);
    reply.body = std::move(clean.html);
    reply.remote_images_blocked = clean.remote_images_blocked;
  }
  WriteAll(preview::EncodeReply(reply));
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  int code;
  try {
    code = Run(argc, argv);
  } catch (const std::bad_alloc&) {
    code = kNoMemory;
  }
  // No exit handlers, no stdio flush: nothing but the exit call.
  ::_exit(code);
}
