// AuditCli (see cli_audit.h).
#include "cli/cli_audit.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/units.h"
#include "cli/cli_common.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "env/user_name.h"
#include "journal/audit_log.h"

namespace mailvault::cli {

std::string CliAccount() { return "cli:" + ProcessUserName(); }

namespace {

// Where a pending record goes when the data dir cannot be written: the same
// name in the log dir.
constexpr char kPendingFallbackDir[] = "/var/log/mailvault";

journal::AuditEvent MakeEvent(std::string_view action, const std::vector<uint64_t>& copy_ids,
                              const Status& outcome, std::string detail) {
  journal::AuditEvent e;
  e.account = CliAccount();
  e.role = "cli";
  e.client = "local";
  e.action = std::string(action);
  e.copy_ids = copy_ids;
  e.result = std::string(outcome.ok() ? journal::kResultOk : journal::kResultFailed);
  if (!outcome.ok()) {
    detail += (detail.empty() ? "" : ": ") +
              (outcome.message().empty() ? outcome.ToString() : outcome.message());
  }
  e.detail = std::move(detail);
  return e;
}

std::vector<std::string> PendingPaths(const std::string& data_dir) {
  return {DataDir(data_dir).audit_pending(), DataDir(kPendingFallbackDir).audit_pending()};
}

// Moves records kept while the log could not be written into it, oldest
// first, with their own times; a pending file is removed once all of it is
// in the log.
void ReplayPending(journal::AuditLog& log, const std::string& data_dir) {
  Env& env = *PosixEnv();
  for (const std::string& path : PendingPaths(data_dir)) {
    if (!env.Exists(path)) continue;
    auto text = env.ReadFile(path);
    if (!text.ok()) continue;
    bool all = true;
    size_t pos = 0;
    while (pos < text->size()) {
      size_t end = text->find('\n', pos);
      if (end == std::string::npos) end = text->size();
      auto j = nlohmann::json::parse(text->substr(pos, end - pos), nullptr, false);
      pos = end + 1;
      if (j.is_discarded() || !j.is_object()) continue;  // a torn last line
      journal::AuditEvent e;
      e.at = j.value("at", int64_t{0});
      e.account = j.value("account", std::string());
      e.role = j.value("role", std::string());
      e.client = j.value("client", std::string());
      e.action = j.value("action", std::string());
      e.copy_ids = j.value("copy_ids", std::vector<uint64_t>{});
      e.result = j.value("result", std::string());
      e.detail = j.value("detail", std::string()) +
                 " [recorded late: the audit log could not be written at the time]";
      if (!log.Record(std::move(e)).ok()) {
        all = false;
        break;
      }
    }
    if (all) env.Remove(path).IgnoreError();
  }
}

}  // namespace

Status AuditCli(const std::string& data_dir, std::string_view action,
                const std::vector<uint64_t>& copy_ids, const Status& outcome, std::string detail) {
  journal::AuditOptions options;
  options.data_dir = data_dir;
  options.max_records = 0;  // the daemon's configured cap stays
  auto keys = CommandKeys(data_dir);
  if (!keys.ok()) return keys.status().Annotate("audit log");
  auto log = journal::AuditLog::Open(*PosixEnv(), **keys, options);
  if (!log.ok()) return log.status().Annotate("audit log");
  ReplayPending(**log, data_dir);
  return (*log)
      ->Record(MakeEvent(action, copy_ids, outcome, std::move(detail)))
      .Annotate("audit log");
}

Status AuditCliOrDefer(const std::string& data_dir, std::string_view action,
                       const std::vector<uint64_t>& copy_ids, const Status& outcome,
                       std::string detail) {
  Status logged = AuditCli(data_dir, action, copy_ids, outcome, detail);
  if (logged.ok()) return logged;
  journal::AuditEvent e = MakeEvent(action, copy_ids, outcome, std::move(detail));
  e.at = PosixEnv()->NowMicros();
  nlohmann::json j = {{"at", e.at},         {"account", e.account}, {"role", e.role},
                      {"client", e.client}, {"action", e.action},   {"copy_ids", e.copy_ids},
                      {"result", e.result}, {"detail", e.detail}};
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string kept_in;
  for (const std::string& path : PendingPaths(data_dir)) {
    auto f = PosixEnv()->OpenAppendable(path);
    if (!f.ok()) continue;
    if ((*f)->Append(line).ok() && (*f)->Sync().ok()) {
      (*f)->Close().IgnoreError();
      kept_in = path;
      break;
    }
  }
  std::string note = "mailvault: warning: the audit log cannot be written (" + logged.message() +
                     "); this access is " +
                     (kept_in.empty() ? std::string("NOT recorded anywhere but here")
                                      : "kept in " + kept_in +
                                            " and enters the audit log at the next command "
                                            "that can write it") +
                     ": " + FormatRfc3339(e.at) + " " + e.account + " " + e.action + " " + line;
  std::fwrite(note.data(), 1, note.size(), stderr);
  if (kept_in.empty()) return logged;
  return Status::Ok();
}

}  // namespace mailvault::cli
