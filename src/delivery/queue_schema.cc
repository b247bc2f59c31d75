// The queue database's schema, row codec and List query (see
// queue_schema.h).
//
// Schema notes. `id` is the rowid, so listing newest first walks the table
// backwards. meta holds the schema version and the last id and request
// handed out: ids and requests come from these counters rather than from
// max()+1 because ForgetFinished deletes rows, and an id or request shown
// to an operator must never come back naming another entry. Indexes:
//   deliveries_due      (state, next_attempt_at): ClaimDue and NextDue
//   deliveries_copy     (copy_id, id): ForCopy, ForgetFinished, List by copy
//   deliveries_request  (request, id): List by request
//   deliveries_state    (state, id): List by state, newest first, and
//                       FinishedCopies
// consumed_releases (version 2) holds the nonce of each release header
// intake honoured, until the header would have expired anyway;
// consumed_releases_expiry finds the expired ones.
#include "delivery/queue_schema.h"

#include "db/encrypted_db.h"

namespace mailvault::index {

namespace {

constexpr char kQueueSchema[] = R"sql(
CREATE TABLE deliveries(
  id INTEGER PRIMARY KEY,
  request INTEGER NOT NULL,
  copy_id INTEGER NOT NULL,
  rcpt TEXT NOT NULL,
  original INTEGER NOT NULL,
  mail_from TEXT NOT NULL,
  format INTEGER NOT NULL,
  remove_message_id INTEGER NOT NULL,
  state INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_reply TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  requested_by TEXT NOT NULL);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_copy ON deliveries(copy_id, id);
CREATE INDEX deliveries_request ON deliveries(request, id);
CREATE INDEX deliveries_state ON deliveries(state, id);
INSERT INTO meta(key, value) VALUES('last_id', 0), ('last_request', 0);
)sql";

// Version 2: release nonces intake has honoured (queue_db.h ConsumeRelease).
constexpr char kReleasesSchema[] = R"sql(
CREATE TABLE consumed_releases(nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX consumed_releases_expiry ON consumed_releases(expires_at);
)sql";

constexpr char kDeliveryColumns[] =
    "id, request, copy_id, rcpt, original, mail_from, format, remove_message_id, state, "
    "attempts, last_reply, created_at, updated_at, next_attempt_at, expires_at, requested_by";

}  // namespace

const char kInsertDelivery[] =
    "INSERT INTO deliveries(id, request, copy_id, rcpt, original, mail_from, format, "
    "remove_message_id, state, attempts, last_reply, created_at, updated_at, next_attempt_at, "
    "expires_at, requested_by) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

namespace {

// Column positions in kDeliveryColumns (0-based; bind indexes are one more).
enum Col {
  kId,
  kRequest,
  kCopyId,
  kRcpt,
  kOriginal,
  kMailFrom,
  kFormat,
  kRemoveMessageId,
  kState,
  kAttempts,
  kLastReply,
  kCreatedAt,
  kUpdatedAt,
  kNextAttemptAt,
  kExpiresAt,
  kRequestedBy,
};

uint64_t ColU64(sqlite3_stmt* s, int col) {
  return static_cast<uint64_t>(sqlite3_column_int64(s, col));
}

}  // namespace

const db::Schema& QueueSchema() {
  static const db::Schema* schema = [] {
    auto* s = new db::Schema;
    s->kind = "delivery queue";
    s->version_key = "queue_schema";
    s->oldest_readable = 1;
    s->migrations = {{1, kQueueSchema}, {2, kReleasesSchema}};
    return s;
  }();
  return *schema;
}

std::string SelectDeliveries(std::string_view rest) {
  return std::string("SELECT ") + kDeliveryColumns + " FROM deliveries " + std::string(rest);
}

std::string ReturningDeliveries(std::string_view update) {
  return std::string(update) + " RETURNING " + kDeliveryColumns;
}

bool ValidState(int64_t v) {
  return v >= static_cast<int64_t>(DeliveryState::kQueued) &&
         v <= static_cast<int64_t>(DeliveryState::kFailed);
}

bool ValidFormat(int64_t v) {
  return v == static_cast<int64_t>(DeliveryFormat::kAsIs) ||
         v == static_cast<int64_t>(DeliveryFormat::kAsAttachment);
}

int BindDelivery(sqlite3_stmt* s, const DeliveryEntry& e) {
  const int64_t ints[][2] = {
      {kId, ToSql(e.id)},
      {kRequest, ToSql(e.request)},
      {kCopyId, ToSql(e.copy_id)},
      {kOriginal, e.original ? 1 : 0},
      {kFormat, static_cast<int64_t>(e.format)},
      {kRemoveMessageId, e.remove_message_id ? 1 : 0},
      {kState, StateToSql(e.state)},
      {kAttempts, e.attempts},
      {kCreatedAt, e.created_at},
      {kUpdatedAt, e.updated_at},
      {kNextAttemptAt, e.next_attempt_at},
      {kExpiresAt, e.expires_at},
  };
  for (const auto& [col, v] : ints) {
    int rc = sqlite3_bind_int64(s, static_cast<int>(col) + 1, v);
    if (rc != SQLITE_OK) return rc;
  }
  const std::pair<int, const std::string*> texts[] = {
      {kRcpt, &e.rcpt},
      {kMailFrom, &e.mail_from},
      {kLastReply, &e.last_reply},
      {kRequestedBy, &e.requested_by},
  };
  for (const auto& [col, v] : texts) {
    int rc = db::BindText(s, col + 1, *v);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

Status ReadDelivery(sqlite3_stmt* s, DeliveryEntry* e) {
  e->id = ColU64(s, kId);
  const int64_t state = sqlite3_column_int64(s, kState);
  const int64_t format = sqlite3_column_int64(s, kFormat);
  if (!ValidState(state) || !ValidFormat(format)) {
    return Status::Corruption("delivery entry " + std::to_string(e->id) + ": unknown state " +
                              std::to_string(state) + " or format " + std::to_string(format));
  }
  e->request = ColU64(s, kRequest);
  e->copy_id = ColU64(s, kCopyId);
  e->rcpt = db::ColText(s, kRcpt);
  e->original = sqlite3_column_int64(s, kOriginal) != 0;
  e->mail_from = db::ColText(s, kMailFrom);
  e->format = static_cast<DeliveryFormat>(format);
  e->remove_message_id = sqlite3_column_int64(s, kRemoveMessageId) != 0;
  e->state = static_cast<DeliveryState>(state);
  e->attempts = static_cast<uint32_t>(sqlite3_column_int64(s, kAttempts));
  e->last_reply = db::ColText(s, kLastReply);
  e->created_at = sqlite3_column_int64(s, kCreatedAt);
  e->updated_at = sqlite3_column_int64(s, kUpdatedAt);
  e->next_attempt_at = sqlite3_column_int64(s, kNextAttemptAt);
  e->expires_at = sqlite3_column_int64(s, kExpiresAt);
  e->requested_by = db::ColText(s, kRequestedBy);
  return Status::Ok();
}

Result<std::vector<DeliveryEntry>> ReadDeliveries(sqlite3_stmt* s, std::string_view what) {
  std::vector<DeliveryEntry> out;
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, what));
    if (!row) return out;
    MV_RETURN_IF_ERROR(ReadDelivery(s, &out.emplace_back()));
  }
}

std::string ListSql(const DeliveryQuery& q, size_t limit, std::vector<int64_t>* params) {
  params->clear();
  auto param = [params](int64_t v) {
    params->push_back(v);
    return "?" + std::to_string(params->size());
  };
  std::string where = "WHERE 1";
  if (!q.states.empty()) {
    std::vector<int64_t> states;
    for (DeliveryState st : q.states) states.push_back(StateToSql(st));
    std::sort(states.begin(), states.end());
    states.erase(std::unique(states.begin(), states.end()), states.end());
    where += " AND state IN (";
    for (size_t i = 0; i < states.size(); ++i) where += (i ? ", " : "") + param(states[i]);
    where += ")";
  }
  if (q.copy_id) where += " AND copy_id = " + param(ClampToSql(*q.copy_id));
  if (q.request) where += " AND request = " + param(ClampToSql(*q.request));
  if (q.before) where += " AND id < " + param(ClampToSql(*q.before));
  where += " ORDER BY id DESC LIMIT " + param(ClampToSql(limit) + 1);
  return SelectDeliveries(where);
}

}  // namespace mailvault::index
