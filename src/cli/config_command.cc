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
  if (!o.milter.enabled) {
    std::printf("  milter:           off\n");
    return kExitOk;
  }
  std::printf("  milter socket:    %s\n", o.milter.socket.c_str());
  const scan::EngineOptions& e = o.engines;
  std::printf("  clamd:            %s\n", e.clamd.enabled ? e.clamd.address.c_str() : "off");
  std::printf("  rspamd:           %s\n", e.rspamd.enabled ? e.rspamd.url.c_str() : "off");
  std::printf("  content filter:   %s (%zu banned names, %zu banned formats)\n",
              e.content.enabled ? "on" : "off", e.content.banned_names.size(),
              e.content.banned_formats.size());
  std::printf("  address lists:    %zu black, %zu white\n", e.lists.blacklist.size(),
              e.lists.whitelist.size());
  std::printf("  rules:            %zu\n", o.rules.size());
  for (const rules::Rule& r : o.rules) {
    std::string engines;
    for (const std::string& n : r.engines) engines += (engines.empty() ? "" : ",") + n;
    std::printf("    %-16s %zu sender / %zu recipient patterns; engines %s\n", r.id.c_str(),
                r.senders.size(), r.recipients.size(), engines.empty() ? "none" : engines.c_str());
  }
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
