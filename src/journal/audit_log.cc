// AuditLog (see audit_log.h). Design note on the group commit:
//
// Each Record puts a Waiter (its cleaned row, later its outcome) on
// pending_ and waits on cv_ until it is done. Whenever no commit is under
// way (committing_ false), a waiting thread becomes the leader: it takes up
// to kMaxBatch waiters off the front, lets go of mu_, appends their rows in
// one AuditDb::Append (one transaction, one fsync), takes mu_ back, marks
// each of them done with the outcome and wakes everyone. A leader whose own
// event was not in the batch (more than kMaxBatch were queued before it)
// simply leads again. The leader alone touches a waiter's row once it left
// pending_; the owner reads only `done` and `status`, under mu_.
#include "journal/audit_log.h"

#include <string.h>

#include <algorithm>

#include "base/json_text.h"
#include "base/metrics.h"
#include "base/units.h"
#include "crypto/keyring.h"

namespace mailvault::journal {

using nlohmann::json;

struct AuditLog::Waiter {
  AuditEvent row;
  Status status;
  bool done = false;
};

namespace {

constexpr size_t kMaxNameBytes = 64;  // action, role
constexpr size_t kExportPage = 1000;
constexpr char kEllipsis[] = "\u2026";

// Valid UTF-8 without control characters: invalid sequences become U+FFFD
// (nlohmann's replace handler does the decoding), C0 controls and DEL a
// space.
std::string Clean(std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
  if (plain) return std::string(s);
  const std::string quoted = JsonText(json(std::string(s)));
  const json back = json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  std::string out = back.is_string() ? back.get<std::string>() : std::string();
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return out;
}

// At most `max` bytes of valid UTF-8 `s`, ending in "…" when cut; never
// splits a character.
std::string Cap(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max >= sizeof kEllipsis - 1 ? max - (sizeof kEllipsis - 1) : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  s.resize(cut);
  return s + kEllipsis;
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

Status CheckName(std::string_view what, std::string_view v, bool may_be_empty) {
  if (v.empty() && may_be_empty) return Status::Ok();
  if (v.empty() || v.size() > kMaxNameBytes || !std::all_of(v.begin(), v.end(), NameChar)) {
    return Status::InvalidArgument("audit event: " + std::string(what) + " \"" + Clean(v) +
                                   "\" must be 1-64 characters of a-z 0-9 . _ -");
  }
  return Status::Ok();
}

bool IsResult(std::string_view r) {
  return r == kResultOk || r == kResultDenied || r == kResultFailed || r == kResultError;
}

Status BadResult(std::string_view r) {
  return Status::InvalidArgument("audit result \"" + Clean(r) +
                                 "\" is not one of ok, denied, failed, error");
}

// The row for `e`, validated and cleaned.
Result<AuditEvent> ToRow(AuditEvent e, int64_t now) {
  MV_RETURN_IF_ERROR(CheckName("action", e.action, /*may_be_empty=*/false));
  MV_RETURN_IF_ERROR(CheckName("role", e.role, /*may_be_empty=*/true));
  if (!IsResult(e.result)) return BadResult(e.result);
  if (e.at < 0) return Status::InvalidArgument("audit event: the time is before 1970");
  AuditEvent r;
  r.at = e.at == 0 ? now : e.at;
  r.account = Cap(Clean(e.account), kMaxFieldBytes);
  r.role = std::move(e.role);
  r.client = Cap(Clean(e.client), kMaxFieldBytes);
  r.action = std::move(e.action);
  r.result = std::move(e.result);
  std::string detail = Clean(e.detail);
  if (e.copy_ids.size() > kMaxCopyIds) {
    const std::string note =
        " [" + std::to_string(e.copy_ids.size() - kMaxCopyIds) + " more copy ids not recorded]";
    detail = Cap(std::move(detail), kMaxDetailBytes - note.size()) + note;
    e.copy_ids.resize(kMaxCopyIds);
  } else {
    detail = Cap(std::move(detail), kMaxDetailBytes);
  }
  r.detail = std::move(detail);
  r.copy_ids = std::move(e.copy_ids);
  return r;
}

Result<index::AuditFilter> ToFilter(const AuditQuery& q) {
  if (q.limit < 1) return Status::InvalidArgument("audit list limit must be at least 1");
  if (q.before < 0) return Status::InvalidArgument("audit list cursor must not be negative");
  if (!q.result.empty() && !IsResult(q.result)) return BadResult(q.result);
  index::AuditFilter f;
  f.account = q.account;
  f.action = q.action;
  f.result = q.result;
  f.copy_id = q.copy_id;
  f.since = q.since;
  f.until = q.until;
  f.before = q.before;
  f.limit = std::min(static_cast<size_t>(q.limit), index::kMaxAuditPage);
  return f;
}

// RFC 3339 UTC with all six fraction digits, so that lines sort and align.
std::string TimeText(int64_t micros) {
  std::string t = FormatRfc3339(micros);
  if (t.find('.') == std::string::npos && !t.empty() && t.back() == 'Z') {
    t.insert(t.size() - 1, ".000000");
  }
  return t;
}

}  // namespace

std::string AuditPath(const std::string& data_dir) { return DataDir(data_dir).audit(); }

Result<std::unique_ptr<AuditLog>> AuditLog::Open(Env& env, const crypto::KeyRing& keys,
                                                 const AuditOptions& options) {
  if (options.data_dir.empty()) return Status::InvalidArgument("audit log: no data dir");
  crypto::SymmetricKey key = keys.Derived(crypto::KeyPurpose::kAudit);
  index::AuditDbOptions db_options;
  db_options.path = AuditPath(options.data_dir);
  db_options.read_only = options.read_only;
  if (!options.read_only && !env.Exists(db_options.path)) {
    // Created through the Env, mode 0600, rather than by SQLite (0644 less
    // the umask); SQLite gives the -wal and -shm files the mode of this one.
    MV_ASSIGN_OR_RETURN(auto file, env.OpenAppendable(db_options.path));
    MV_RETURN_IF_ERROR(file->Close());
  }
  auto db = index::AuditDb::Open(db_options, key);
  ::explicit_bzero(key.data(), key.size());
  if (!db.ok()) return db.status().Annotate("open the audit log " + db_options.path);
  if (!options.read_only) {
    // A new database file's name must survive a crash like its contents.
    MV_RETURN_IF_ERROR(env.SyncDir(options.data_dir));
    if (options.max_records > 0) {
      MV_ASSIGN_OR_RETURN(uint64_t cap, (*db)->MaxRecords());
      if (cap != options.max_records) {
        MV_RETURN_IF_ERROR((*db)->SetMaxRecords(options.max_records).status());
      }
    }
  }
  return std::unique_ptr<AuditLog>(new AuditLog(env, std::move(*db), options.read_only));
}

Status AuditLog::Record(AuditEvent e) {
  if (read_only_) return Status::PermissionDenied("the audit log is open read-only");
  // mailvault_audit_records_total{result} and _errors_total (docs/metrics.md).
  static metrics::CounterFamily& written = metrics::Global().Counters(
      "mailvault_audit_records_total",
      "Audit records written, by result (ok, denied, failed, error).", {"result"});
  static metrics::Counter& failed = metrics::Global().CounterOf(
      "mailvault_audit_record_errors_total",
      "Audit records that could not be written (the access they describe was refused).");
  metrics::Counter& counter = written.With({e.result});
  Waiter self;
  MV_ASSIGN_OR_RETURN(self.row, ToRow(std::move(e), env_.NowMicros()));
  std::unique_lock<std::mutex> lock(mu_);
  pending_.push_back(&self);
  while (!self.done) {
    if (committing_) {
      cv_.wait(lock);
      continue;
    }
    committing_ = true;
    const size_t n = std::min(pending_.size(), kMaxBatch);
    std::vector<Waiter*> batch(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(n));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(n));
    lock.unlock();
    std::vector<AuditEvent> rows;
    rows.reserve(batch.size());
    for (Waiter* w : batch) rows.push_back(std::move(w->row));
    Status outcome = db_->Append(rows).status();
    commits_.fetch_add(1);
    lock.lock();
    for (Waiter* w : batch) {
      w->status = outcome;
      w->done = true;
    }
    committing_ = false;
    cv_.notify_all();
  }
  (self.status.ok() ? counter : failed).Add();
  return self.status;
}

Result<AuditPage> AuditLog::List(const AuditQuery& query) {
  MV_ASSIGN_OR_RETURN(index::AuditFilter filter, ToFilter(query));
  MV_ASSIGN_OR_RETURN(index::AuditRowPage rows, db_->List(filter));
  AuditPage page;
  page.items = std::move(rows.rows);
  page.next = rows.next;
  return page;
}

Status AuditLog::Export(const AuditQuery& query,
                        const std::function<Status(std::string_view json_line)>& sink) {
  AuditQuery q = query;
  q.limit = static_cast<int>(kExportPage);
  while (true) {
    MV_ASSIGN_OR_RETURN(AuditPage page, List(q));
    for (const AuditEvent& e : page.items) MV_RETURN_IF_ERROR(sink(AuditEventToJsonLine(e)));
    if (!page.next) return Status::Ok();
    q.before = *page.next;
  }
}

Result<uint64_t> AuditLog::Count() { return db_->Count(); }

json AuditEventToJson(const AuditEvent& e) {
  return json{
      {"id", e.id},         {"at", TimeText(e.at)}, {"account", e.account},   {"role", e.role},
      {"client", e.client}, {"action", e.action},   {"copy_ids", e.copy_ids}, {"result", e.result},
      {"detail", e.detail}};
}

json AuditPageToJson(const AuditPage& page) {
  json items = json::array();
  for (const AuditEvent& e : page.items) items.push_back(AuditEventToJson(e));
  return json{{"items", std::move(items)}, {"next", page.next ? json(*page.next) : json(nullptr)}};
}

std::string AuditEventToJsonLine(const AuditEvent& e) { return JsonText(AuditEventToJson(e)); }

}  // namespace mailvault::journal
