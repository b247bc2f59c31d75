// Crash dumps on or off (see core_dumps.h).
#include "env/core_dumps.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <string>

namespace mailvault {
namespace {

Status Errno(const char* call) {
  return Status::IOError(std::string(call) + ": " + strerror(errno));
}

}  // namespace

Status SetCoreDumps(bool enabled) {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_CORE, &limit) != 0) return Errno("getrlimit(RLIMIT_CORE)");
  if (enabled) {
    limit.rlim_cur = limit.rlim_max;
  } else {
    limit.rlim_cur = 0;
    limit.rlim_max = 0;
  }
  if (::setrlimit(RLIMIT_CORE, &limit) != 0) return Errno("setrlimit(RLIMIT_CORE)");
  if (::prctl(PR_SET_DUMPABLE, enabled ? 1 : 0, 0, 0, 0) != 0) {
    return Errno("prctl(PR_SET_DUMPABLE)");
  }
  return Status::Ok();
}

Result<CoreDumpState> GetCoreDumpState() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_CORE, &limit) != 0) return Errno("getrlimit(RLIMIT_CORE)");
  const int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (dumpable < 0) return Errno("prctl(PR_GET_DUMPABLE)");
  CoreDumpState s;
  s.soft = limit.rlim_cur == RLIM_INFINITY ? ~0ULL : limit.rlim_cur;
  s.hard = limit.rlim_max == RLIM_INFINITY ? ~0ULL : limit.rlim_max;
  s.dumpable = dumpable == 1;
  return s;
}

}  // namespace mailvault
