// The `mailvault` subcommands, registered on a CLI11 app. Each Add* function
// adds its subcommands; when one is selected, parsing stores the work to do
// in *action, which main runs after parsing succeeded and which returns the
// process exit code (cli_common.h). Options live as long as the app.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace mailvault::cli {

using Action = std::function<int()>;

// --data DIR (default ./var, env MAILVAULT_DATA) on a subcommand.
void AddDataOption(CLI::App* sub, std::string* dir);

// init, put, delete, rebuild-index
void AddWriteCommands(CLI::App& app, Action* action);
// search, show, stats, verify
void AddReadCommands(CLI::App& app, Action* action);
// save
void AddSaveCommand(CLI::App& app, Action* action);
// keys add|list, settings get|set
void AddAdminCommands(CLI::App& app, Action* action);
// config check
void AddConfigCommand(CLI::App& app, Action* action);
// deliver, queue
void AddDeliverCommands(CLI::App& app, Action* action);
// audit
void AddAuditCommand(CLI::App& app, Action* action);
// user add|list|show|addresses|passwd|role|disable|enable|remove
void AddUserCommands(CLI::App& app, Action* action);
// `settings get|set personal.*` (user_commands.cc): the personal Backup's
// settings live in the accounts database, not the store. `key` "" prints
// them all (nothing when no accounts file was made yet).
int RunPersonalSettingsGet(const std::string& dir, const std::string& key);
int RunPersonalSettingsSet(const std::string& dir, const std::string& key,
                           const std::string& value);
// ldap test|sync|show|auth
void AddLdapCommands(CLI::App& app, Action* action);

}  // namespace mailvault::cli
