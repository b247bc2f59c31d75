// RunHelper: the HTML of a mail sanitized (or turned into text) by the
// mailvault-preview helper process (helper_main.cc), never in the caller.
//
// Each call starts one helper (env/process.h: empty environment, cwd /, no
// descriptor but its pipes), sends it the request and waits for the reply
// under a wall-clock deadline and an output bound; the helper confines
// itself (env/sandbox.h) to the memory and CPU given here before it reads
// the request. Hostile HTML that makes gumbo slow, huge or crash costs one
// helper, killed; the caller gets Unavailable("preview unavailable: ...")
// with the reason, never a partial or unchecked document. A helper costs
// about 4 ms of CPU before it does any work (BENCHMARKS.md, preview_bench);
// a pool would save only that, since no helper may see two messages, so
// there is none. Thread-safe: concurrent calls run separate helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "mailvault/status.h"
#include "preview/helper_protocol.h"

namespace mailvault::preview {

struct HelperOptions {
  // The mailvault-preview program; empty: the one beside the running
  // program (bin/ of the build, or where the package installs mailvaultd).
  std::string path;
  int64_t timeout_micros = 5'000'000;        // wall clock per preview, start to reply
  uint64_t max_memory_bytes = 512ull << 20;  // the helper's address space (RLIMIT_AS)
  uint64_t cpu_seconds = 4;                  // the helper's CPU time (RLIMIT_CPU)
  size_t max_output = 64 << 20;              // bytes of reply (inline images included)
};

// The helper's reply, checked: a well-formed frame, and UTF-8. Unavailable
// ("preview unavailable: " and why) when the helper could not be started,
// timed out, wrote more than max_output, was killed (out of CPU or memory,
// a crash, a forbidden system call), exited with an error or replied
// something else than a frame of UTF-8.
Result<HelperReply> RunHelper(const HelperOptions& options, const HelperRequest& request);

}  // namespace mailvault::preview
