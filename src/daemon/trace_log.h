// The daemon's log: to stderr (the journal under systemd) at info, and in
// full to the trace file ([log] trace_file, default DATA/log/trace.log; the
// package sets /var/log/mailvault/trace.log) at [log] level. The trace file
// may hold addresses, subjects and client IPs, so it and every rotated file
// are 0600 whatever the umask (each is created 0600 before spdlog opens it),
// and its directory, when mailvaultd creates it, 0700. Rotation is spdlog's
// rotating sink: when the file would pass trace_max_size it becomes
// trace.1.log (trace.1.log becomes trace.2.log ...) and the oldest beyond
// trace_files is removed. Thread-safe (spdlog's _mt sinks).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

#include "config/config.h"
#include "mailvault/status.h"

namespace mailvault::daemon {

// The logger named "mailvaultd" with the two sinks (stderr only when
// `to_stderr`). The trace file's directory is created (0700) if missing,
// not its parent. IOError if the trace file or its directory cannot be
// created or opened (the message names the path and [log] trace_file).
Result<std::shared_ptr<spdlog::logger>> MakeDaemonLogger(const config::DaemonOptions& options,
                                                         bool to_stderr);

}  // namespace mailvault::daemon
