// AuditLog: who did what to which copy, when, from where and with what
// result: every console login (success and failure), search, view,
// preview, save, delivery, delete and settings change, and the CLI's
// content accesses (docs/audit.md). Kept in DATA/audit.db
// (journal/audit_db.h), encrypted under a key derived from the index key,
// rotated at a cap (1,000,000 records by default), newest first when read,
// exportable as JSON lines.
//
// Record is durable before it returns (the WAL is fsynced), because the
// console records an access before it answers. Many threads recording at
// once share one commit (group commit): each Record queues its event; one
// of the waiting threads, the leader, takes every queued event (up to
// kMaxBatch), appends them in one transaction and one fsync, and wakes the
// others with the common outcome. So the cost of a busy console is one
// fsync per batch, not per request.
//
// Events are cleaned before they are stored: strings become valid UTF-8
// without control characters, account and client are cut at
// kMaxFieldBytes, detail at kMaxDetailBytes (ending in "…"), and at most
// kMaxCopyIds copy ids are kept (detail then says how many were left out).
// Malformed events (no action, an unknown result) are refused.
//
// Thread-safe. Several processes may record into one file at once (the
// daemon and the CLI). A read-only AuditLog lists and exports beside them;
// its Record returns PermissionDenied.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "journal/audit_db.h"
#include "journal/audit_event.h"
#include "mailvault/status.h"

namespace mailvault::journal {

// The actions the console and the CLI record. Others may be added: an
// action is 1..64 characters of [a-z0-9._-].
inline constexpr std::string_view kActionLogin = "login";
inline constexpr std::string_view kActionLogout = "logout";
inline constexpr std::string_view kActionSearch = "search";
inline constexpr std::string_view kActionView = "view";
inline constexpr std::string_view kActionPreview = "preview";
inline constexpr std::string_view kActionSave = "save";
inline constexpr std::string_view kActionDeliver = "deliver";
inline constexpr std::string_view kActionDelete = "delete";
inline constexpr std::string_view kActionSettings = "settings";
inline constexpr std::string_view kActionAccount = "account";  // an account added/changed/removed
inline constexpr std::string_view kActionAudit = "audit";      // the audit log read or exported

// The results: done; refused by policy or a failed login; failed for a
// reason of the request (no such copy); failed for an internal error.
inline constexpr std::string_view kResultOk = "ok";
inline constexpr std::string_view kResultDenied = "denied";
inline constexpr std::string_view kResultFailed = "failed";
inline constexpr std::string_view kResultError = "error";

inline constexpr size_t kMaxFieldBytes = 256;    // account, client
inline constexpr size_t kMaxDetailBytes = 4096;  // detail, including any note
inline constexpr size_t kMaxCopyIds = 1000;      // copy ids kept per event
inline constexpr size_t kMaxBatch = 512;         // events per group commit

// Which events List and Export return; every set filter must match.
struct AuditQuery {
  std::string account, action, result;  // exact; empty = any
  std::optional<uint64_t> copy_id;      // the event names this copy
  int64_t since = 0, until = 0;         // at >= since, at < until (micros); 0 = open
  int64_t before = 0;                   // id cursor: only ids below it; 0 = from the newest
  int limit = 100;                      // 1..index::kMaxAuditPage (more is capped); List only
};

struct AuditPage {
  std::vector<AuditEvent> items;  // newest first
  std::optional<int64_t> next;    // set when more match: the `before` of the next page
};

struct AuditOptions {
  std::string data_dir;
  // The cap the writer sets in the file; 0 keeps the file's cap (1,000,000
  // for a new file). The daemon passes its configured value; the CLI 0, so
  // it never rotates to another cap than the daemon's.
  uint64_t max_records = index::kDefaultAuditMaxRecords;
  bool read_only = false;
};

// DATA/audit.db
std::string AuditPath(const std::string& data_dir);

class AuditLog {
 public:
  // Opens (a writer: creates) the audit log of the store in data_dir and,
  // for a writer with max_records > 0, stores that cap (rotating at once if
  // it is lower than the records kept). NotFound when read-only and the
  // file was never created; Corruption for a wrong key or a file that is
  // not an audit database. `env` must outlive the AuditLog; `keys` (the
  // process's key ring, secret keys not needed) is used during Open only.
  static Result<std::unique_ptr<AuditLog>> Open(Env& env, const crypto::KeyRing& keys,
                                                const AuditOptions& options);
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Stores `e`, cleaned as the header comment says, durably; returns once
  // it is on disk. InvalidArgument (nothing stored) for a missing or
  // malformed action or role, an unknown result or a negative time;
  // PermissionDenied when read-only; otherwise the database's error, which
  // every event of the same commit shares.
  Status Record(AuditEvent e);

  // One page of matching events, newest first. InvalidArgument for limit
  // < 1, a negative cursor or a result filter that is not a result.
  Result<AuditPage> List(const AuditQuery& query);

  // Every matching event from query.before down, newest first, read page
  // by page (query.limit is ignored), each handed to `sink` as one line of
  // JSON (AuditEventToJson, no newline). A non-OK status from the sink
  // stops the export and is returned. Events recorded meanwhile are not
  // included; events rotated away meanwhile may be missing.
  Status Export(const AuditQuery& query,
                const std::function<Status(std::string_view json_line)>& sink);

  Result<uint64_t> Count();

  // How many group commits Record has made (for tests and metrics).
  uint64_t Commits() const { return commits_.load(); }

 private:
  struct Waiter;
  AuditLog(Env& env, std::unique_ptr<index::AuditDb> db, bool read_only)
      : env_(env), db_(std::move(db)), read_only_(read_only) {}

  Env& env_;
  const std::unique_ptr<index::AuditDb> db_;  // thread-safe itself
  const bool read_only_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiter*> pending_;  // guarded by mu_; each lives on its Record's stack
  bool committing_ = false;      // guarded by mu_: a leader is appending
  std::atomic<uint64_t> commits_{0};
};

// {"id", "at" (RFC 3339 UTC with microseconds), "account", "role", "client",
//  "action", "copy_ids", "result", "detail"}
nlohmann::json AuditEventToJson(const AuditEvent& e);
// {"items": [...], "next": N|null}
nlohmann::json AuditPageToJson(const AuditPage& page);
// The one line Export writes for `e`: compact JSON, never throws.
std::string AuditEventToJsonLine(const AuditEvent& e);

}  // namespace mailvault::journal
