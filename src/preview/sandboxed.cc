// RunHelper (see sandboxed.h).
#include "preview/sandboxed.h"

#include <signal.h>

#include <string>

#include "base/utf8.h"
#include "env/process.h"

namespace mailvault::preview {
namespace {

Status Unavailable(const std::string& why) {
  return Status::Unavailable("preview unavailable: " + why);
}

Result<std::string> HelperPath(const HelperOptions& options) {
  if (!options.path.empty()) return options.path;
  MV_ASSIGN_OR_RETURN(std::string self, SelfExecutablePath());
  return self.substr(0, self.rfind('/') + 1) + "mailvault-preview";
}

std::string Seconds(int64_t micros) {
  std::string s = std::to_string(micros / 1'000'000);
  if (micros % 1'000'000 != 0) s += "." + std::to_string(micros % 1'000'000 / 100'000);
  return s + " s";
}

// Why a helper that did not succeed failed, in the words the console shows.
std::string Why(const ProcessResult& r, const HelperOptions& options) {
  if (r.timed_out) return "the HTML took longer than " + Seconds(options.timeout_micros);
  if (r.output_overflow) {
    return "the sanitized HTML is larger than " + std::to_string(options.max_output >> 20) + " MB";
  }
  if (r.exited) {
    switch (r.exit_code) {
      case 3:
        return "the preview helper could not confine itself";
      case 4:
        return "the message is too large to preview";
      case 6:
        return "the HTML needs more memory than the preview may use";
      default:
        return "the preview helper failed (exit status " + std::to_string(r.exit_code) + ")";
    }
  }
  switch (r.signal) {
    case SIGXCPU:
    case SIGKILL:  // the hard CPU limit
      return "the HTML needs more CPU time than the preview may use";
    case SIGSYS:
      return "the preview helper attempted a forbidden system call and was killed";
    default:
      // Out of address space, gumbo dereferences the null malloc gave it.
      return "the preview helper crashed (signal " + std::to_string(r.signal) +
             "), probably out of memory";
  }
}

}  // namespace

Result<HelperReply> RunHelper(const HelperOptions& options, const HelperRequest& request) {
  const std::string input = EncodeRequest(request);
  ProcessOptions process;
  auto path = HelperPath(options);
  if (!path.ok()) return Unavailable("cannot find the preview helper: " + path.status().message());
  process.path = std::move(*path);
  process.args = {"--memory=" + std::to_string(options.max_memory_bytes),
                  "--cpu=" + std::to_string(options.cpu_seconds),
                  "--max-input=" + std::to_string(input.size())};
  process.timeout_micros = options.timeout_micros;
  // The frame around the body is a few bytes.
  process.max_output = options.max_output + 64;
  auto run = RunProcess(process, input);
  if (!run.ok()) return Unavailable("cannot start the preview helper: " + run.status().message());
  if (!run->Succeeded()) return Unavailable(Why(*run, options));
  auto reply = DecodeReply(run->output);
  if (!reply.ok()) return Unavailable("the preview helper's reply is malformed");
  if (!IsValidUtf8(reply->body)) return Unavailable("the preview helper's reply is not UTF-8");
  return reply;
}

}  // namespace mailvault::preview
