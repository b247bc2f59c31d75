// AuditEvent: one event of the audit log, as the journal takes it, the audit
// database stores it (one row of `audit`, journal/audit_db.h) and List
// returns it. One struct for all three, so a field added here reaches the
// database and back without a copy to keep in step. A plain value; no
// thread-safety concerns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailvault::journal {

// Times are microseconds since the Unix epoch (UTC). AuditLog::Record cleans
// and caps the strings; the database stores them as given.
struct AuditEvent {
  int64_t id = 0;       // assigned when stored; ignored by Record
  int64_t at = 0;       // micros since the epoch, UTC; 0 = now
  std::string account;  // who: an account name, "cli:USER", the name tried at a failed login
  std::string role;     // their role ("administrator", "cli"); may be empty (failed login)
  std::string client;   // the client's address ("192.0.2.7", "local")
  std::string action;   // kAction*
  std::vector<uint64_t> copy_ids;
  std::string result;  // kResult*
  std::string detail;  // free text: the query, the error, the setting changed
};

}  // namespace mailvault::journal
