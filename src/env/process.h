// RunProcess: one short-lived child process fed on stdin and read on stdout,
// under a wall-clock deadline and an output bound (the preview's sandboxed
// HTML helper, preview/sandboxed.h).
//
// The child starts with nothing of the caller's: an empty environment, cwd
// "/", stdin and stdout pipes, stderr on /dev/null, no other descriptor
// (whatever the caller's descriptors' close-on-exec flags say), every signal
// at its default disposition and none blocked. It is spawned with
// posix_spawn (no fork of a large, threaded daemon) and always reaped before
// RunProcess returns: on the deadline or when its output passes the bound it
// is killed with SIGKILL and waited for. Thread-safe: calls from several
// threads run independent children.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault {

struct ProcessOptions {
  std::string path;                    // the program, an absolute path (no $PATH lookup)
  std::vector<std::string> args;       // argv[1..]; argv[0] is `path`
  int64_t timeout_micros = 5'000'000;  // from the spawn until it has exited, output read
  size_t max_output = 16 << 20;        // bytes of stdout; one more kills it
};

struct ProcessResult {
  std::string output;   // what it wrote on stdout (at most max_output bytes)
  bool exited = false;  // it called exit; exit_code is its status
  int exit_code = -1;
  int signal = 0;                // the signal that ended it (SIGKILL when RunProcess killed it)
  bool timed_out = false;        // killed at the deadline
  bool output_overflow = false;  // killed for writing more than max_output
  // True if it exited with status 0 on its own.
  bool Succeeded() const { return exited && exit_code == 0 && !timed_out && !output_overflow; }
};

// Runs the program with `input` on its stdin (closed after the last byte, or
// when the child stops reading). A child that failed, crashed, was killed or
// timed out is a ProcessResult that says so, not an error; the error is
// IOError when the program could not be started (no such file, not
// executable, out of descriptors or processes).
Result<ProcessResult> RunProcess(const ProcessOptions& options, std::string_view input);

// The absolute path of the running program (/proc/self/exe), to find the
// helper programs installed beside it. IOError if the kernel does not say.
Result<std::string> SelfExecutablePath();

}  // namespace mailvault
