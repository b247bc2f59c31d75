// The CLI's own audit records: the commands that touch a copy's content
// (show, save, delete, deliver without the daemon) record who ran them in
// the store's audit log (journal/audit_log.h), as the console does for its
// users. Used from the main thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::cli {

// "cli:" + the user behind the command (env/user_name.h), the account the
// CLI's records and delivery requests name.
std::string CliAccount();

// Records one event in the audit log of the store in `data_dir`, durably:
// account CliAccount(), role "cli", client "local", result "ok" when
// `outcome` is OK, otherwise "failed" with the outcome's message appended
// to `detail`. The log is opened for this one record and keeps the cap the
// daemon set. Returns the log's error; a command whose access could not be
// recorded must not hand out the content.
Status AuditCli(const std::string& data_dir, std::string_view action,
                const std::vector<uint64_t>& copy_ids, const Status& outcome,
                std::string detail = "");

// For reading a copy out (show, save): like AuditCli, but when the audit
// log cannot take the record (a file system turned read-only after an I/O
// error, a damaged audit.db) the administrator on the machine may still
// read: the record is kept in a pending file (DATA/audit-pending.jsonl, or
// /var/log/mailvault/audit-pending.jsonl when DATA cannot be written) and
// printed on stderr, saying so, and it enters the audit log, with its
// original time, at the next CLI command that can write the log. Returns
// OK when the record is in the log or the pending file; the log's error
// only when it is in neither (then the caller must not hand out content).
Status AuditCliOrDefer(const std::string& data_dir, std::string_view action,
                       const std::vector<uint64_t>& copy_ids, const Status& outcome,
                       std::string detail = "");

}  // namespace mailvault::cli
