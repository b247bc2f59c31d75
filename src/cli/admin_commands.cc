// keys add|list|export|import and settings get|set. Adding a key and
// changing settings are writes (they take the lock); listing, reading and
// exporting are not. Import writes only a data dir without keys.
#include <string.h>

#include <memory>

#include "base/json_text.h"
#include "cli/cli_audit.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "crypto/key_export.h"
#include "env/data_dir.h"
#include "env/terminal.h"

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

// keys export|import. The files the user names for input (the export to
// import, a passphrase file) are read while the command line is parsed, as
// the user who ran the command: root's files stay readable when main then
// becomes the data dir's owner (cli_common.h, BecomeDataDirOwner). The
// export itself is written as the data dir's owner; `-` writes it to
// stdout, for a shell redirection that root opens.
struct KeysTransferArgs {
  std::string data = kDefaultDataDir;
  std::string file;
  std::string passphrase_file;
  Status early;           // what reading the inputs at parse time said
  std::string input;      // import: the export, read at parse time
  std::string from_file;  // the passphrase from --passphrase-file
  ~KeysTransferArgs() {
    ::explicit_bzero(input.data(), input.size());
    ::explicit_bzero(from_file.data(), from_file.size());
  }
};

constexpr size_t kMaxPassphraseLine = 1024;

// Runs at parse time (see above).
void ReadTransferInputs(KeysTransferArgs* a, bool import) {
  if (!a->passphrase_file.empty()) {
    auto text = ReadInput(a->passphrase_file);
    if (!text.ok()) {
      a->early = text.status();
      return;
    }
    a->from_file = std::move(*text);
    const size_t eol = a->from_file.find_first_of("\r\n");
    if (eol != std::string::npos) a->from_file.resize(eol);
    if (a->from_file.empty()) {
      a->early = Status::InvalidArgument(a->passphrase_file + ": the first line is empty");
      return;
    }
  }
  if (import) {
    if (a->file == "-" && a->passphrase_file.empty()) {
      a->early = Status::InvalidArgument(
          "the export comes on stdin, so the passphrase cannot be asked for there: give "
          "--passphrase-file");
      return;
    }
    auto data = ReadInput(a->file);
    if (!data.ok()) {
      a->early = data.status();
      return;
    }
    a->input = std::move(*data);
  }
}

// The passphrase: from --passphrase-file, or asked on the terminal (twice
// for an export, so a typing slip cannot make a backup nobody can open).
Result<std::string> Passphrase(const KeysTransferArgs& a, bool confirm) {
  if (!a.passphrase_file.empty()) return a.from_file;
  if (!IsTerminal(kStdinFd)) {
    return Status::InvalidArgument(
        "stdin is not a terminal, so the passphrase cannot be asked for: give "
        "--passphrase-file");
  }
  MV_ASSIGN_OR_RETURN(std::string first, ReadPasswordFromTerminal(
                                             kStdinFd, kStderrFd,
                                             "Passphrase of the key export: ", kMaxPassphraseLine));
  if (!confirm) return first;
  auto second =
      ReadPasswordFromTerminal(kStdinFd, kStderrFd, "Repeat the passphrase: ", kMaxPassphraseLine);
  if (!second.ok() || *second != first) {
    ::explicit_bzero(first.data(), first.size());
    if (!second.ok()) return second.status();
    ::explicit_bzero(second->data(), second->size());
    return Status::InvalidArgument("the two passphrases differ; nothing written");
  }
  ::explicit_bzero(second->data(), second->size());
  return first;
}

int RunKeysExport(const KeysTransferArgs& a) {
  if (!a.early.ok()) return ReportError(a.early);
  DataDir data(a.data);
  if (!data.IsStore(*PosixEnv())) return ReportError(a.data + " is not a mailvault store");
  if (a.file != "-" && PosixEnv()->Exists(a.file))
    return ReportError(a.file + " exists; the export never overwrites a file");
  auto pass = Passphrase(a, /*confirm=*/true);
  if (!pass.ok()) return ReportError(pass.status());
  auto sealed = crypto::ExportKeyRing(*PosixEnv(), data.keys(), *pass, crypto::kExportCost);
  ::explicit_bzero(pass->data(), pass->size());
  if (!sealed.ok()) return ReportError(sealed.status());
  // Every key leaves the store: that is recorded before it does.
  Status audited = AuditCli(a.data, "keys.export", {}, Status::Ok(), "to " + a.file);
  if (!audited.ok()) return ReportError(audited.Annotate("audit log; nothing exported"));
  Status s = a.file == "-" ? WriteStdout(*sealed) : PosixEnv()->WriteFileAtomic(a.file, *sealed);
  if (!s.ok() && s.code() == Code::kPermissionDenied) {
    // Run by root, the command writes as the data dir's owner (cli_common.h).
    return ReportError(s.message() +
                       " (the export is written as the data dir's owner; 'keys export - > " +
                       a.file + "' writes it as you)");
  }
  if (!s.ok()) return ReportError(s);
  if (a.file != "-") {
    std::fprintf(stderr,
                 "mailvault: wrote the key ring of %s to %s, sealed under the passphrase; keep "
                 "both apart from the data\n",
                 a.data.c_str(), a.file.c_str());
  }
  return kExitOk;
}

int RunKeysImport(const KeysTransferArgs& a) {
  if (!a.early.ok()) return ReportError(a.early);
  DataDir data(a.data);
  Status s = data.CreateDirs(*PosixEnv());
  if (!s.ok()) return ReportError(s);
  auto pass = Passphrase(a, /*confirm=*/false);
  if (!pass.ok()) return ReportError(pass.status());
  s = crypto::ImportKeyRing(*PosixEnv(), a.input, *pass, data.keys());
  ::explicit_bzero(pass->data(), pass->size());
  if (!s.ok()) return ReportError(s);
  std::printf("imported the key ring into %s\n", data.keys().c_str());
  if (!data.IsStore(*PosixEnv())) {
    std::printf(
        "now copy the backup's store.json, settings.json and segments/ into %s "
        "(docs/install.md, \"Backup and restore\")\n",
        a.data.c_str());
  }
  return kExitOk;
}

int RunSettingsGet(const std::string& dir, const std::string& key) {
  if (key.rfind("personal.", 0) == 0) return RunPersonalSettingsGet(dir, key);
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
  std::fflush(stdout);
  return RunPersonalSettingsGet(dir, "");
}

int RunSettingsSet(const std::string& dir, const std::string& key, const std::string& value) {
  if (key.rfind("personal.", 0) == 0) return RunPersonalSettingsSet(dir, key, value);
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
  for (bool import : {false, true}) {
    auto a = std::make_shared<KeysTransferArgs>();
    CLI::App* sub =
        import ? keys->add_subcommand("import",
                                      "Restore the key ring from an export into a data dir "
                                      "without keys (FILE - = stdin)")
               : keys->add_subcommand("export",
                                      "Write the key ring sealed under a passphrase "
                                      "(argon2id) to FILE (- = stdout)");
    AddDataOption(sub, &a->data);
    sub->add_option("file", a->file, "The export file")->required();
    sub->add_option("--passphrase-file", a->passphrase_file,
                    "Read the passphrase from this file's first line instead of the terminal");
    sub->callback([=] {
      ReadTransferInputs(a.get(), import);
      *action = [=] { return import ? RunKeysImport(*a) : RunKeysExport(*a); };
    });
  }
  CLI::App* settings =
      app.add_subcommand("settings",
                         "Run-time settings: max_size, notify_free_below, allow_infected_delivery, "
                         "unavailable_action (process|tempfail|reject), html_preview; and the "
                         "personal Backup's personal.* (docs/personal.md)");
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
