// AuditCli (see cli_audit.h).
#include "cli/cli_audit.h"

#include "env/env.h"
#include "env/user_name.h"
#include "journal/audit_log.h"

namespace mailvault::cli {

std::string CliAccount() { return "cli:" + ProcessUserName(); }

Status AuditCli(const std::string& data_dir, std::string_view action,
                const std::vector<uint64_t>& copy_ids, const Status& outcome, std::string detail) {
  journal::AuditOptions options;
  options.data_dir = data_dir;
  options.max_records = 0;  // the daemon's configured cap stays
  auto log = journal::AuditLog::Open(*PosixEnv(), options);
  if (!log.ok()) return log.status().Annotate("audit log");
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
  return (*log)->Record(std::move(e)).Annotate("audit log");
}

}  // namespace mailvault::cli
