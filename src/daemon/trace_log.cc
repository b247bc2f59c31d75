// The daemon's logger (see trace_log.h).
#include "daemon/trace_log.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>

#include "env/env.h"

namespace mailvault::daemon {

Result<std::shared_ptr<spdlog::logger>> MakeDaemonLogger(const config::DaemonOptions& options,
                                                         bool to_stderr) {
  MV_RETURN_IF_ERROR(config::CheckLogOptions(options));
  const std::string path = config::TraceFilePath(options);
  const size_t slash = path.rfind('/');
  Env& env = *PosixEnv();
  if (slash != std::string::npos && slash > 0) {
    // Its own directory only (the data dir, or /var/log/mailvault from the
    // package, exists).
    Status s = env.CreateDir(path.substr(0, slash));
    if (!s.ok()) return s.Annotate("the trace log's directory ([log] trace_file)");
  }
  const spdlog::level::level_enum file_level = spdlog::level::from_str(options.log_level);
  std::vector<spdlog::sink_ptr> sinks;
  try {
    spdlog::file_event_handlers private_files;
    // Every file the sink opens (the first, and each after a rotation) is
    // made 0600 before it is opened: spdlog's fopen would take the umask.
    private_files.before_open = [&env](const spdlog::filename_t& name) {
      CreatePrivateFileIfMissing(env, name).IgnoreError();  // fopen then says why
    };
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        path, options.trace_max_size, static_cast<size_t>(options.trace_files),
        /*rotate_on_open=*/false, private_files);
    file->set_level(file_level);
    sinks.push_back(std::move(file));
  } catch (const spdlog::spdlog_ex& e) {
    return Status::IOError("cannot open the trace log " + path +
                           " ([log] trace_file): " + e.what());
  }
  if (to_stderr) {
    auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err->set_level(std::max(file_level, spdlog::level::info));
    sinks.push_back(std::move(err));
  }
  auto logger = std::make_shared<spdlog::logger>("mailvaultd", sinks.begin(), sinks.end());
  logger->set_level(std::min(file_level, spdlog::level::info));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");
  // Warnings reach the file at once; the rest within a second (main's
  // flush_every) or at exit.
  logger->flush_on(spdlog::level::warn);
  return logger;
}

}  // namespace mailvault::daemon
