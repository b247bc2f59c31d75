// config check: validates a mailvaultd config file without changing anything
// (CONVENTIONS.md §10): the same parser the daemon uses at start, so a file
// this accepts is one the daemon accepts.
#include <cstdio>
#include <memory>

#include "base/units.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/config.h"

namespace mailvault::cli {
namespace {

int RunConfigCheck(const std::string& path) {
  auto options = config::LoadConfig(path);
  if (!options.ok()) return ReportError(options.status());
  const config::DaemonOptions& o = *options;
  std::printf("%s: ok\n", path.c_str());
  std::printf("  store dir:        %s\n", o.data_dir.c_str());
  std::printf("  api listen:       %s:%d\n", o.listen_host.c_str(), o.listen_port);
  std::printf("  api token:        %s\n",
              o.token.empty() ? ("from " + config::TokenFilePath(o)).c_str() : "inline");
  std::printf("  max message size: %s\n", FormatSize(o.max_message_size).c_str());
  std::printf("  log level:        %s\n", o.log_level.c_str());
  return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& app, Action* action) {
  CLI::App* cfg = app.add_subcommand("config", "mailvaultd's configuration file");
  cfg->require_subcommand(1);
  auto path = std::make_shared<std::string>("conf/mailvault.toml");
  CLI::App* check = cfg->add_subcommand(
      "check", "Validate a config file as mailvaultd would read it; changes nothing");
  check->add_option("-c,--config", *path, "Config file")->capture_default_str();
  check->callback([=] { *action = [=] { return RunConfigCheck(*path); }; });
}

}  // namespace mailvault::cli
