// keys add|list and settings get|set. Adding a key and changing settings are
// writes (they take the lock); listing and reading are not.
#include <memory>

#include "base/json_text.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace mailvault::cli {
namespace {

int RunKeysAdd(const std::string& dir) {
  auto store = OpenForWriting(dir);
  if (!store.ok()) return ReportError(store.status());
  auto key = (*store)->AddKey();
  if (!key.ok()) return ReportError(key.status());
  std::printf("added key %u (%s); new copies are sealed to it, older ones stay readable\n", key->id,
              key->fingerprint.c_str());
  return kExitOk;
}

int RunKeysList(const std::string& dir, bool json) {
  auto store = OpenForReading(dir);
  if (!store.ok()) return ReportError(store.status());
  auto keys = (*store)->Keys();
  std::string out = json ? JsonText(KeysToJson(keys), 2) + "\n" : FormatKeys(keys);
  Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunSettingsGet(const std::string& dir, const std::string& key) {
  auto store = OpenForReading(dir);
  if (!store.ok()) return ReportError(store.status());
  auto policy = OpenSettings(dir, /*read_only=*/true);
  if (!policy.ok()) return ReportError(policy.status());
  const policy::SettingValues settings = (*policy)->Values(**store);
  std::vector<std::string> names = policy::SettingNames();
  if (!key.empty()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string valid;
      for (const std::string& n : names) valid += (valid.empty() ? "" : ", ") + n;
      return ReportError("unknown setting \"" + key + "\": use one of " + valid);
    }
    std::printf("%s\n", policy::GetSetting(settings, key).c_str());
    return kExitOk;
  }
  for (const std::string& n : names)
    std::printf("%s = %s\n", n.c_str(), policy::GetSetting(settings, n).c_str());
  return kExitOk;
}

int RunSettingsSet(const std::string& dir, const std::string& key, const std::string& value) {
  auto store = OpenForWriting(dir);  // the lock: no daemon changes them meanwhile
  if (!store.ok()) return ReportError(store.status());
  auto policy = OpenSettings(dir, /*read_only=*/false);
  if (!policy.ok()) return ReportError(policy.status());
  policy::SettingValues settings = (*policy)->Values(**store);
  std::string warning;
  Status s = policy::SetSetting(&settings, key, value, &warning);
  if (!s.ok()) return ReportError(s);
  s = (*policy)->Apply(**store, settings);
  if (!s.ok()) return ReportError(s);
  if (!warning.empty()) std::fprintf(stderr, "mailvault: warning: %s\n", warning.c_str());
  std::printf("%s = %s\n", key.c_str(), policy::GetSetting(settings, key).c_str());
  return kExitOk;
}

}  // namespace

void AddAdminCommands(CLI::App& app, Action* action) {
  CLI::App* keys = app.add_subcommand("keys", "Manage the store's encryption keys");
  keys->require_subcommand(1);
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    CLI::App* sub =
        keys->add_subcommand("add", "Make a new current key; older copies stay readable");
    AddDataOption(sub, dir.get());
    sub->callback([=] { *action = [=] { return RunKeysAdd(*dir); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto json = std::make_shared<bool>(false);
    CLI::App* sub = keys->add_subcommand("list", "List the keys");
    AddDataOption(sub, dir.get());
    sub->add_flag("--json", *json, "Print JSON");
    sub->callback([=] { *action = [=] { return RunKeysList(*dir, *json); }; });
  }
  CLI::App* settings =
      app.add_subcommand("settings",
                         "Run-time settings: max_size, notify_free_below, allow_infected_delivery, "
                         "unavailable_action (process|tempfail|reject), html_preview");
  settings->require_subcommand(1);
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto key = std::make_shared<std::string>();
    CLI::App* sub = settings->add_subcommand("get", "Print one setting, or all");
    AddDataOption(sub, dir.get());
    sub->add_option("key", *key, "Setting name");
    sub->callback([=] { *action = [=] { return RunSettingsGet(*dir, *key); }; });
  }
  {
    auto dir = std::make_shared<std::string>(kDefaultDataDir);
    auto key = std::make_shared<std::string>();
    auto value = std::make_shared<std::string>();
    CLI::App* sub = settings->add_subcommand("set", "Change a setting (sizes like 7.32GB)");
    AddDataOption(sub, dir.get());
    sub->add_option("key", *key, "Setting name")->required();
    sub->add_option("value", *value, "New value")->required();
    sub->callback([=] { *action = [=] { return RunSettingsSet(*dir, *key, *value); }; });
  }
}

}  // namespace mailvault::cli
