// mailvaultd: the mailvault daemon (what `make run` starts). Reads the
// config, sets up logging, blocks SIGTERM/SIGINT so that only the main thread
// sees them (sigwait) and runs the daemon until one arrives.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "config/config.h"
#include "daemon/daemon.h"
#include "env/core_dumps.h"

int main(int argc, char** argv) {
  using namespace mailvault::daemon;
  using namespace mailvault::config;
  CLI::App app{"mailvaultd: the mailvault daemon (store + HTTP API)"};
  std::string config_path, data_dir;
  app.add_option("-c,--config", config_path, "Config file (TOML, see conf/mailvault.toml)");
  app.add_option("--data", data_dir, "Data dir; overrides [store] dir");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "mailvaultd: %s (see --help)\n", e.what());
    return 2;
  }

  auto logger = spdlog::stderr_color_mt("mailvaultd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%l] %v");

  mailvault::Result<DaemonOptions> options = DaemonOptions{};
  if (!config_path.empty()) options = LoadConfig(config_path);
  if (!options.ok()) {
    spdlog::error("{}", options.status().message());
    return 1;
  }
  if (!data_dir.empty()) options->data_dir = data_dir;

  // Crash dumps hold message contents: off unless [debug] core_dumps
  // (before any thread starts).
  if (mailvault::Status s = mailvault::SetCoreDumps(options->core_dumps); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  if (options->core_dumps) {
    spdlog::warn("crash dumps are ON ([debug] core_dumps): a core file holds message contents");
  }

  // Every milter connection costs a descriptor: allow as many as the hard
  // limit lets us.
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  // Block the stop signals before any thread starts, so all inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    mailvault::Status s = RunDaemon(*options, [&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      spdlog::info("received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
    if (!s.ok()) {
      spdlog::error("{}", s.message());
      spdlog::shutdown();
      return 1;
    }
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    spdlog::shutdown();
    return 1;
  }
  spdlog::shutdown();  // flushes the trace file
  return 0;
}
