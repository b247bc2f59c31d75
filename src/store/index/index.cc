// SqliteIndex: Index over SQLite through the encrypting VFS. Design note:
//
// Schema (all of it encrypted on disk by db::EncryptedVfs):
//   copies      one row per copy, id = CopyId (the rowid, so id order is
//               placement order); JSON for rcpt, statuses, attachments;
//               engines = bitmask of the engines that labelled the copy.
//               Indexes: placed_at (time filter -> id bounds), (rule_id, id),
//               (segment, length) (eviction).
//   copies_fts  contentless FTS5, trigram tokenizer, detail=none,
//               columnsize=0, over ONE text per copy (FtsText: every
//               searchable column joined, then a tag per engine, so an
//               engine filter combined with a text needle narrows inside
//               the index too). It only narrows candidates: each
//               text filter becomes an AND of the needle's trigrams and is
//               then rechecked exactly with LIKE on its own columns, so a
//               match in another column or across a separator is dropped.
//               Rows are removed with FTS5's 'delete' command fed the text
//               rebuilt from the stored columns, byte for byte as inserted.
//   copy_rcpt   (RecipientKey(envelope recipient), id), for the recipient
//               filter of personal users; emptied with its copy by a
//               trigger.
//   meta        schema version (IndexSchema: numbered migrations), the watermark, and running
//   totals (count,
//               message bytes, record bytes) kept in the same transactions
//               as the rows, so Stats never scans millions of rows.
//
// Search: since/until become id bounds through the placed_at index (ids
// grow with placed_at); placed_at is still rechecked on each row. With a
// text filter of 3+ characters the FTS table drives the query (rowid bounds
// and ORDER BY rowid DESC are pushed into FTS5, which walks its doclists
// newest first and stops at LIMIT); otherwise copies is walked by id
// descending (or by the rule_id index). LIMIT limit+1 tells whether a next
// page exists; the cursor is the last id returned.
//
// Connections: a writer (Insert, Remove, eviction, Clear) and a reader
// (everything else), each behind its own mutex, so searches do not wait for
// an ingest batch; WAL lets them run at once. Read-only opens have just the
// reader.
#include "store/index/index.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <variant>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "db/schema.h"
#include "db/sqlite_db.h"
#include "store/index/row_codec.h"

namespace mailvault::index {
namespace {

constexpr size_t kForEachBatch = 256;

// The index's migrations (meta 'schema'). Version 1 (before engine tags in
// the FTS text) is not upgraded: such an index is rebuilt from the
// segments, so the first migration creates version 2.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE copies(
  id INTEGER PRIMARY KEY,
  segment INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
  key_id INTEGER NOT NULL,
  placed_at INTEGER NOT NULL, received_at INTEGER NOT NULL, sent_at INTEGER NOT NULL,
  size INTEGER NOT NULL, engines INTEGER NOT NULL, rule_id TEXT NOT NULL,
  mail_from TEXT NOT NULL, rcpt TEXT NOT NULL, from_ TEXT NOT NULL, to_ TEXT NOT NULL,
  cc TEXT NOT NULL, bcc TEXT NOT NULL, subject TEXT NOT NULL, message_id TEXT NOT NULL,
  queue_id TEXT NOT NULL, statuses TEXT NOT NULL, reason TEXT NOT NULL,
  attachments TEXT NOT NULL);
CREATE INDEX copies_placed_at ON copies(placed_at);
CREATE INDEX copies_rule ON copies(rule_id, id);
CREATE INDEX copies_segment ON copies(segment, length);
CREATE VIRTUAL TABLE copies_fts USING fts5(
  text, content='', detail=none, columnsize=0, tokenize='trigram');
-- FTS5 leaves must fit a page's local payload (4056 usable bytes less cell
-- overhead), or every leaf spills into an overflow page.
INSERT INTO copies_fts(copies_fts, rank) VALUES('pgsz', 3900);
INSERT INTO meta(key, value) VALUES('wm_segment', 0), ('wm_offset', 0),
  ('count', 0), ('bytes', 0), ('record_bytes', 0);
)sql";

// 2 -> 3: the body digest (possible duplicates). A column and a partial
// index, in place: rebuilding a large index at an upgrade would hold intake
// off for minutes. Copies indexed before have no digest.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE copies ADD COLUMN body_digest TEXT NOT NULL DEFAULT '';
CREATE INDEX copies_digest ON copies(body_digest) WHERE body_digest != '';
)sql";

// 3 -> 4: the recipient table, for personal users' searches: one row per
// (envelope recipient, copy), the address keyed by RecipientKey (ASCII
// lower case; SQLite's lower() folds ASCII only, so the backfill below and
// RecipientKey agree). Rows go when their copy goes (the trigger), so no
// path that deletes copies can leave a recipient behind. The backfill reads
// the rcpt JSON of every copy indexed before: a string is an address, a
// {"hex"} object is not UTF-8 and is not indexed (RecipientKey gives "").
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE copy_rcpt(
  addr TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY(addr, id)) WITHOUT ROWID;
CREATE INDEX copy_rcpt_id ON copy_rcpt(id);
CREATE TRIGGER copies_rcpt_gone AFTER DELETE ON copies
  BEGIN DELETE FROM copy_rcpt WHERE id = old.id; END;
INSERT OR IGNORE INTO copy_rcpt(addr, id)
  SELECT lower(j.value), c.id FROM copies c, json_each(c.rcpt) j
  WHERE j.type = 'text' AND j.value != '';
)sql";

// The columns an Entry is read from, in the order ReadEntry expects.
constexpr char kColumns[] =
    "c.id, c.segment, c.offset, c.length, c.key_id, c.placed_at, c.received_at, c.sent_at, "
    "c.size, c.rule_id, c.mail_from, c.rcpt, c.from_, c.to_, c.cc, c.bcc, c.subject, "
    "c.message_id, c.queue_id, c.statuses, c.reason, c.attachments, c.body_digest";
enum Col {
  kId,
  kSegment,
  kOffset,
  kLength,
  kKeyId,
  kPlacedAt,
  kReceivedAt,
  kSentAt,
  kSize,
  kRuleId,
  kMailFrom,
  kRcpt,
  kFrom,
  kTo,
  kCc,
  kBcc,
  kSubject,
  kMessageId,
  kQueueId,
  kStatuses,
  kReason,
  kAttachments,
  kBodyDigest,
};

constexpr char kInsertCopy[] =
    "INSERT INTO copies(id, segment, offset, length, key_id, placed_at, received_at, sent_at, "
    "size, engines, rule_id, mail_from, rcpt, from_, to_, cc, bcc, subject, message_id, "
    "queue_id, statuses, reason, attachments, body_digest) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24)";
constexpr char kInsertRcpt[] = "INSERT OR IGNORE INTO copy_rcpt(addr, id) VALUES(?1, ?2)";
constexpr char kInsertFts[] = "INSERT INTO copies_fts(rowid, text) VALUES(?1, ?2)";
constexpr char kDeleteFts[] =
    "INSERT INTO copies_fts(copies_fts, rowid, text) VALUES('delete', ?1, ?2)";
constexpr char kAddMeta[] = "UPDATE meta SET value = value + ?2 WHERE key = ?1";
constexpr char kSetMeta[] = "UPDATE meta SET value = ?2 WHERE key = ?1";

// Unsigned values are stored bit for bit in SQLite's signed integers.
int64_t ToSql(uint64_t v) { return static_cast<int64_t>(v); }
// For comparisons, an unsigned bound beyond int64 is clamped instead.
int64_t ClampToSql(uint64_t v) {
  return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
}

uint64_t ColU64(sqlite3_stmt* s, int col) {
  return static_cast<uint64_t>(sqlite3_column_int64(s, col));
}

// Reads an Entry from a row of kColumns; the stored rcpt text too, if
// asked (FTS deletes need it byte for byte).
Status ReadEntry(sqlite3_stmt* s, Entry* e, std::string* rcpt_json = nullptr) {
  CopyMeta& m = e->meta;
  m.id = ColU64(s, kId);
  e->loc.segment = ColU64(s, kSegment);
  e->loc.offset = ColU64(s, kOffset);
  e->loc.length = ColU64(s, kLength);
  e->loc.key_id = static_cast<uint32_t>(sqlite3_column_int64(s, kKeyId));
  m.placed_at = sqlite3_column_int64(s, kPlacedAt);
  m.received_at = sqlite3_column_int64(s, kReceivedAt);
  m.sent_at = sqlite3_column_int64(s, kSentAt);
  m.size = ColU64(s, kSize);
  m.rule_id = db::ColText(s, kRuleId);
  m.mail_from = db::ColText(s, kMailFrom);
  m.from = db::ColText(s, kFrom);
  m.to = db::ColText(s, kTo);
  m.cc = db::ColText(s, kCc);
  m.bcc = db::ColText(s, kBcc);
  m.subject = db::ColText(s, kSubject);
  m.message_id = db::ColText(s, kMessageId);
  m.queue_id = db::ColText(s, kQueueId);
  m.reason = db::ColText(s, kReason);
  m.body_digest = db::ColText(s, kBodyDigest);
  std::string_view rcpt = db::ColText(s, kRcpt);
  if (rcpt_json != nullptr) *rcpt_json = rcpt;
  Status st = DecodeRcpt(rcpt, &m.rcpt);
  if (st.ok()) st = DecodeStatuses(db::ColText(s, kStatuses), &m.statuses);
  if (st.ok()) st = DecodeAttachments(db::ColText(s, kAttachments), &m.attachments);
  if (!st.ok()) return st.Annotate("copy " + std::to_string(m.id));
  return Status::Ok();
}

std::string FtsTextOf(const CopyMeta& m, std::string_view rcpt_json) {
  return FtsText({m.from, m.mail_from, m.to, m.cc, rcpt_json, m.subject, m.message_id,
                  EngineMask(m.statuses)});
}

// Positional parameters for SQL built piece by piece.
class Params {
 public:
  std::string Add(int64_t v) {
    values_.emplace_back(v);
    return "?" + std::to_string(values_.size());
  }
  std::string Add(std::string v) {
    values_.emplace_back(std::move(v));
    return "?" + std::to_string(values_.size());
  }
  int Bind(sqlite3_stmt* s) const {
    for (size_t i = 0; i < values_.size(); ++i) {
      const int idx = static_cast<int>(i + 1);
      int rc = std::holds_alternative<int64_t>(values_[i])
                   ? sqlite3_bind_int64(s, idx, std::get<int64_t>(values_[i]))
                   : db::BindText(s, idx, std::get<std::string>(values_[i]));
      if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
  }

 private:
  std::vector<std::variant<int64_t, std::string>> values_;
};

class SqliteIndex final : public Index {
 public:
  SqliteIndex(std::unique_ptr<db::EncryptedVfs> vfs, std::unique_ptr<db::SqliteDb> writer,
              std::unique_ptr<db::SqliteDb> reader, bool sync_commits)
      : vfs_(std::move(vfs)),
        writer_(std::move(writer)),
        reader_(std::move(reader)),
        sync_commits_(sync_commits) {}
  ~SqliteIndex() override {
    reader_.reset();  // the writer closes last: it checkpoints and removes the WAL
    writer_.reset();
  }

  Status Insert(const std::vector<Entry>& entries, const Watermark& mark) override;
  Result<Watermark> GetWatermark() override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Result<Entry> Get(CopyId id) override;
  Result<std::vector<Entry>> Remove(const std::vector<CopyId>& ids) override;
  Result<uint64_t> RemoveSegmentsUpTo(uint64_t segment) override;
  Result<IndexStats> Stats() override;
  Status ForEach(const std::function<bool(const Entry&)>& fn) override;
  Status Clear() override;
  Result<std::vector<Entry>> EntriesEndingAfter(uint64_t segment, uint64_t end) override;
  Result<std::vector<CopyId>> FindDuplicates(CopyId id, const std::string& message_id,
                                             const std::string& body_digest, int64_t placed_at,
                                             int64_t window) override;

 private:
  Status ReadOnly() const { return Status::PermissionDenied("the index is open read-only"); }
  // Adds deltas to the running totals (writer, inside a transaction).
  Status AddTotals(int64_t count, int64_t bytes, int64_t record_bytes);
  Status SetMeta(std::string_view key, int64_t value);
  // The id of the first copy placed at or after `t`, if any.
  Result<std::optional<int64_t>> FirstIdPlacedFrom(int64_t t);

  std::unique_ptr<db::EncryptedVfs> vfs_;  // outlives both connections
  std::mutex write_mu_;
  std::unique_ptr<db::SqliteDb> writer_;  // guarded by write_mu_; null when read-only
  std::mutex read_mu_;
  std::unique_ptr<db::SqliteDb> reader_;  // guarded by read_mu_
  const bool sync_commits_;
};

Status SqliteIndex::AddTotals(int64_t count, int64_t bytes, int64_t record_bytes) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, writer_->Prepare(kAddMeta));
  const std::pair<const char*, int64_t> deltas[] = {
      {"count", count}, {"bytes", bytes}, {"record_bytes", record_bytes}};
  for (const auto& [key, delta] : deltas) {
    db::StmtScope scope(s);
    db::BindText(s, 1, key);
    sqlite3_bind_int64(s, 2, delta);
    MV_RETURN_IF_ERROR(db::Step(s, "update index totals").status());
  }
  return Status::Ok();
}

Status SqliteIndex::SetMeta(std::string_view key, int64_t value) {
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, writer_->Prepare(kSetMeta));
  db::StmtScope scope(s);
  db::BindText(s, 1, key);
  sqlite3_bind_int64(s, 2, value);
  return db::Step(s, "update index meta").status();
}

Status SqliteIndex::Insert(const std::vector<Entry>& entries, const Watermark& mark) {
  if (writer_ == nullptr) return ReadOnly();
  std::lock_guard<std::mutex> lock(write_mu_);
  db::Transaction txn(*writer_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * ins, writer_->Prepare(kInsertCopy));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * fts, writer_->Prepare(kInsertFts));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * to, writer_->Prepare(kInsertRcpt));
  int64_t bytes = 0;
  int64_t record_bytes = 0;
  for (const Entry& e : entries) {
    const CopyMeta& m = e.meta;
    if (m.id == 0 || m.id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument("index insert: copy id " + std::to_string(m.id) +
                                     " out of range");
    }
    const std::string rcpt = EncodeRcpt(m.rcpt);
    const std::string statuses = EncodeStatuses(m.statuses);
    const std::string attachments = EncodeAttachments(m.attachments);
    {
      db::StmtScope scope(ins);
      sqlite3_bind_int64(ins, 1, ToSql(m.id));
      sqlite3_bind_int64(ins, 2, ToSql(e.loc.segment));
      sqlite3_bind_int64(ins, 3, ToSql(e.loc.offset));
      sqlite3_bind_int64(ins, 4, ToSql(e.loc.length));
      sqlite3_bind_int64(ins, 5, e.loc.key_id);
      sqlite3_bind_int64(ins, 6, m.placed_at);
      sqlite3_bind_int64(ins, 7, m.received_at);
      sqlite3_bind_int64(ins, 8, m.sent_at);
      sqlite3_bind_int64(ins, 9, ToSql(m.size));
      sqlite3_bind_int64(ins, 10, EngineMask(m.statuses));
      db::BindText(ins, 11, m.rule_id);
      db::BindText(ins, 12, m.mail_from);
      db::BindText(ins, 13, rcpt);
      db::BindText(ins, 14, m.from);
      db::BindText(ins, 15, m.to);
      db::BindText(ins, 16, m.cc);
      db::BindText(ins, 17, m.bcc);
      db::BindText(ins, 18, m.subject);
      db::BindText(ins, 19, m.message_id);
      db::BindText(ins, 20, m.queue_id);
      db::BindText(ins, 21, statuses);
      db::BindText(ins, 22, m.reason);
      db::BindText(ins, 23, attachments);
      db::BindText(ins, 24, m.body_digest);
      MV_RETURN_IF_ERROR(db::Step(ins, "index copy " + std::to_string(m.id)).status());
    }
    {
      const std::string text = FtsTextOf(m, rcpt);
      db::StmtScope scope(fts);
      sqlite3_bind_int64(fts, 1, ToSql(m.id));
      db::BindText(fts, 2, text);
      MV_RETURN_IF_ERROR(db::Step(fts, "index text of copy " + std::to_string(m.id)).status());
    }
    for (const std::string& r : m.rcpt) {
      const std::string key = RecipientKey(r);
      if (key.empty()) continue;
      db::StmtScope scope(to);
      db::BindText(to, 1, key);
      sqlite3_bind_int64(to, 2, ToSql(m.id));
      MV_RETURN_IF_ERROR(db::Step(to, "index recipients of copy " + std::to_string(m.id)).status());
    }
    bytes += ToSql(m.size);
    record_bytes += ToSql(e.loc.length);
  }
  if (!entries.empty()) {
    MV_RETURN_IF_ERROR(AddTotals(static_cast<int64_t>(entries.size()), bytes, record_bytes));
  }
  MV_RETURN_IF_ERROR(SetMeta("wm_segment", ToSql(mark.segment)));
  MV_RETURN_IF_ERROR(SetMeta("wm_offset", ToSql(mark.offset)));
  return txn.Commit();
}

Result<Watermark> SqliteIndex::GetWatermark() {
  std::lock_guard<std::mutex> lock(read_mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      reader_->Prepare("SELECT (SELECT value FROM meta WHERE key = 'wm_segment'), "
                                       "(SELECT value FROM meta WHERE key = 'wm_offset')"));
  db::StmtScope scope(s);
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "read watermark"));
  if (!row) return Status::Corruption("index: no watermark");
  return Watermark{ColU64(s, 0), ColU64(s, 1)};
}

Result<Entry> SqliteIndex::Get(CopyId id) {
  std::lock_guard<std::mutex> lock(read_mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, reader_->Prepare(std::string("SELECT ") + kColumns +
                                                         " FROM copies c WHERE c.id = ?1"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, ToSql(id));
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "get copy " + std::to_string(id)));
  if (!row) return Status::NotFound("copy " + std::to_string(id) + " is not indexed");
  Entry e;
  MV_RETURN_IF_ERROR(ReadEntry(s, &e));
  return e;
}

Result<std::optional<int64_t>> SqliteIndex::FirstIdPlacedFrom(int64_t t) {
  // ORDER BY placed_at LIMIT 1 reads one index entry; min(id) would read
  // every entry from t on.
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      reader_->Prepare("SELECT id FROM copies WHERE placed_at >= ?1 "
                                       "ORDER BY placed_at, id LIMIT 1"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, t);
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "search by time"));
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(sqlite3_column_int64(s, 0));
}

Result<SearchPage> SqliteIndex::Search(const SearchQuery& q) {
  if (q.limit == 0) return Status::InvalidArgument("search limit must be at least 1");
  uint32_t engines = 0;
  for (const std::string& name : q.engines) {
    MV_ASSIGN_OR_RETURN(uint32_t bit, EngineBit(name));
    engines |= bit;
  }
  SearchPage page;
  // The recipient set, keyed as the table is; a set that keys to nothing
  // matches nothing (never "no restriction").
  std::vector<std::string> recipients;
  if (q.recipients) {
    for (const std::string& r : *q.recipients) {
      std::string key = RecipientKey(r);
      if (!key.empty() &&
          std::find(recipients.begin(), recipients.end(), key) == recipients.end()) {
        recipients.push_back(std::move(key));
      }
    }
    if (recipients.empty()) return page;
  }
  std::lock_guard<std::mutex> lock(read_mu_);
  db::Transaction txn(*reader_);  // one snapshot for the bounds and the rows
  MV_RETURN_IF_ERROR(txn.Begin(false));

  // Id bounds [lo, hi).
  int64_t lo = 1;
  int64_t hi = std::numeric_limits<int64_t>::max();
  if (q.before) hi = std::min(hi, ClampToSql(*q.before));
  if (q.since) {
    MV_ASSIGN_OR_RETURN(std::optional<int64_t> first, FirstIdPlacedFrom(*q.since));
    if (!first) return page;  // nothing placed since
    lo = std::max(lo, *first);
  }
  if (q.until) {
    MV_ASSIGN_OR_RETURN(std::optional<int64_t> first, FirstIdPlacedFrom(*q.until));
    if (first) hi = std::min(hi, *first);
  }
  if (lo >= hi) return page;

  Params p;
  std::string match;
  std::string where;
  auto text_filter = [&](const std::string& needle, std::initializer_list<const char*> columns) {
    if (needle.empty()) return;
    std::string trigrams = TrigramMatch(needle);
    if (!trigrams.empty()) match += (match.empty() ? "" : " AND ") + trigrams;
    const std::string param = p.Add(LikePattern(needle));
    where += " AND (";
    bool first = true;
    for (const char* col : columns) {
      where += std::string(first ? "" : " OR ") + "c." + col + " LIKE " + param + " ESCAPE '\\'";
      first = false;
    }
    where += ")";
  };
  text_filter(q.from, {"from_", "mail_from"});
  text_filter(q.to, {"to_", "cc", "rcpt"});
  text_filter(q.subject, {"subject"});
  text_filter(q.message_id, {"message_id"});
  if (!q.rule_id.empty()) where += " AND c.rule_id = " + p.Add(q.rule_id);
  if (engines != 0) where += " AND (c.engines & " + p.Add(int64_t{engines}) + ") != 0";
  if (q.size_le) where += " AND c.size <= " + p.Add(ClampToSql(*q.size_le));
  if (q.size_ge) where += " AND c.size >= " + p.Add(ClampToSql(*q.size_ge));
  // Rechecked per row (unary + keeps the planner off the placed_at index).
  if (q.since) where += " AND +c.placed_at >= " + p.Add(*q.since);
  if (q.until) where += " AND +c.placed_at < " + p.Add(*q.until);
  if (!recipients.empty()) {
    // The principal's copies, by the recipient table: SQLite builds the id
    // list once (an ephemeral b-tree, a few thousand ids for a user) and
    // walks it newest first, so the page costs the user's share of the
    // store, not the store.
    std::string in;
    for (const std::string& r : recipients) in += (in.empty() ? "" : ", ") + p.Add(r);
    where += " AND c.id IN (SELECT r.id FROM copy_rcpt r WHERE r.addr IN (" + in + "))";
    // The trigram index would walk every copy matching the needle to find
    // the user's few; the user's own copies, rechecked by LIKE, are fewer.
    match.clear();
  }

  // With a text needle the trigram index drives the query; the engine tags
  // narrow it further there, so a common needle with a rare engine does not
  // walk thousands of candidates. The engines are still rechecked above.
  if (!match.empty() && engines != 0) match += " AND " + EngineTagMatch(engines);
  std::string sql = std::string("SELECT ") + kColumns;
  if (!match.empty()) {
    sql +=
        " FROM copies_fts CROSS JOIN copies c ON c.id = copies_fts.rowid"
        " WHERE copies_fts MATCH " +
        p.Add(match) + " AND copies_fts.rowid >= " + p.Add(lo) + " AND copies_fts.rowid < " +
        p.Add(hi) + where + " ORDER BY copies_fts.rowid DESC";
  } else {
    sql += " FROM copies c WHERE c.id >= " + p.Add(lo) + " AND c.id < " + p.Add(hi) + where +
           " ORDER BY c.id DESC";
  }
  const int64_t want = static_cast<int64_t>(std::min<size_t>(q.limit, 1 << 20)) + 1;
  sql += " LIMIT " + p.Add(want);

  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s, reader_->Prepare(sql));
  db::StmtScope scope(s);
  int rc = p.Bind(s);
  if (rc != SQLITE_OK) return reader_->Error(rc, "search");
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "search"));
    if (!row) break;
    if (static_cast<int64_t>(page.items.size()) + 1 == want) {
      page.next = page.items.back().id;
      break;
    }
    Entry e;
    MV_RETURN_IF_ERROR(ReadEntry(s, &e));
    page.items.push_back(std::move(e.meta));
  }
  return page;
}

// What a removal took away from the running totals.
struct Removed {
  int64_t count = 0;
  int64_t bytes = 0;
  int64_t record_bytes = 0;
};

Result<std::vector<Entry>> SqliteIndex::Remove(const std::vector<CopyId>& ids) {
  if (writer_ == nullptr) return ReadOnly();
  std::lock_guard<std::mutex> lock(write_mu_);
  // A removal is always committed durably, even without sync_commits:
  // recovery re-adds what a lost insert missed, but cannot know to forget.
  if (!sync_commits_) MV_RETURN_IF_ERROR(writer_->Exec("PRAGMA synchronous=FULL"));
  struct Restore {
    db::SqliteDb* db;
    bool on;
    ~Restore() {
      if (on) db->Exec("PRAGMA synchronous=NORMAL").IgnoreError();
    }
  } restore{writer_.get(), !sync_commits_};
  db::Transaction txn(*writer_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * sel, writer_->Prepare(std::string("SELECT ") + kColumns +
                                                           " FROM copies c WHERE c.id = ?1"));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * del_fts, writer_->Prepare(kDeleteFts));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * del, writer_->Prepare("DELETE FROM copies WHERE id = ?1"));
  std::vector<Entry> removed;
  Removed totals;
  for (CopyId id : ids) {
    Entry e;
    std::string rcpt;
    {
      db::StmtScope scope(sel);
      sqlite3_bind_int64(sel, 1, ToSql(id));
      MV_ASSIGN_OR_RETURN(bool row, db::Step(sel, "remove copy " + std::to_string(id)));
      if (!row) continue;
      MV_RETURN_IF_ERROR(ReadEntry(sel, &e, &rcpt));
    }
    {
      const std::string text = FtsTextOf(e.meta, rcpt);
      db::StmtScope scope(del_fts);
      sqlite3_bind_int64(del_fts, 1, ToSql(id));
      db::BindText(del_fts, 2, text);
      MV_RETURN_IF_ERROR(db::Step(del_fts, "remove text of copy " + std::to_string(id)).status());
    }
    {
      db::StmtScope scope(del);
      sqlite3_bind_int64(del, 1, ToSql(id));
      MV_RETURN_IF_ERROR(db::Step(del, "remove copy " + std::to_string(id)).status());
    }
    ++totals.count;
    totals.bytes += ToSql(e.meta.size);
    totals.record_bytes += ToSql(e.loc.length);
    removed.push_back(std::move(e));
  }
  if (totals.count > 0) {
    MV_RETURN_IF_ERROR(AddTotals(-totals.count, -totals.bytes, -totals.record_bytes));
  }
  MV_RETURN_IF_ERROR(txn.Commit());
  return removed;
}

Result<uint64_t> SqliteIndex::RemoveSegmentsUpTo(uint64_t segment) {
  if (writer_ == nullptr) return ReadOnly();
  std::lock_guard<std::mutex> lock(write_mu_);
  db::Transaction txn(*writer_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * sel, writer_->Prepare(std::string("SELECT ") + kColumns +
                                                           " FROM copies c WHERE c.segment <= ?1"));
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * del_fts, writer_->Prepare(kDeleteFts));
  Removed totals;
  {
    db::StmtScope scope(sel);
    sqlite3_bind_int64(sel, 1, ClampToSql(segment));
    while (true) {
      MV_ASSIGN_OR_RETURN(bool row, db::Step(sel, "evict segments"));
      if (!row) break;
      Entry e;
      std::string rcpt;
      MV_RETURN_IF_ERROR(ReadEntry(sel, &e, &rcpt));
      const std::string text = FtsTextOf(e.meta, rcpt);
      db::StmtScope fts_scope(del_fts);
      sqlite3_bind_int64(del_fts, 1, ToSql(e.meta.id));
      db::BindText(del_fts, 2, text);
      MV_RETURN_IF_ERROR(db::Step(del_fts, "evict segments").status());
      ++totals.count;
      totals.bytes += ToSql(e.meta.size);
      totals.record_bytes += ToSql(e.loc.length);
    }
  }
  if (totals.count == 0) return uint64_t{0};
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * del,
                      writer_->Prepare("DELETE FROM copies WHERE segment <= ?1"));
  {
    db::StmtScope scope(del);
    sqlite3_bind_int64(del, 1, ClampToSql(segment));
    MV_RETURN_IF_ERROR(db::Step(del, "evict segments").status());
  }
  MV_RETURN_IF_ERROR(AddTotals(-totals.count, -totals.bytes, -totals.record_bytes));
  MV_RETURN_IF_ERROR(txn.Commit());
  return static_cast<uint64_t>(totals.count);
}

Result<IndexStats> SqliteIndex::Stats() {
  std::lock_guard<std::mutex> lock(read_mu_);
  // Separate subqueries: each min/max is one index probe, together they
  // would be a scan.
  MV_ASSIGN_OR_RETURN(
      sqlite3_stmt * s,
      reader_->Prepare("SELECT (SELECT value FROM meta WHERE key = 'count'), "
                       "(SELECT value FROM meta WHERE key = 'bytes'), "
                       "(SELECT value FROM meta WHERE key = 'record_bytes'), "
                       "(SELECT min(placed_at) FROM copies), (SELECT max(placed_at) FROM copies), "
                       "(SELECT max(id) FROM copies)"));
  db::StmtScope scope(s);
  MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "index stats"));
  if (!row) return Status::Corruption("index: no stats");
  IndexStats st;
  st.count = ColU64(s, 0);
  st.bytes = ColU64(s, 1);
  st.record_bytes = ColU64(s, 2);
  st.oldest = sqlite3_column_int64(s, 3);  // NULL (empty) reads as 0
  st.newest = sqlite3_column_int64(s, 4);
  st.max_id = ColU64(s, 5);
  return st;
}

Status SqliteIndex::ForEach(const std::function<bool(const Entry&)>& fn) {
  // In batches, with the lock released while fn runs: fn may call back into
  // the index, and no read transaction stays open for the whole walk (which
  // would keep checkpoints from finishing).
  int64_t after = 0;
  while (true) {
    std::vector<Entry> batch;
    {
      std::lock_guard<std::mutex> lock(read_mu_);
      MV_ASSIGN_OR_RETURN(
          sqlite3_stmt * s,
          reader_->Prepare(std::string("SELECT ") + kColumns +
                           " FROM copies c WHERE c.id > ?1 ORDER BY c.id LIMIT ?2"));
      db::StmtScope scope(s);
      sqlite3_bind_int64(s, 1, after);
      sqlite3_bind_int64(s, 2, static_cast<int64_t>(kForEachBatch));
      while (true) {
        MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "walk index"));
        if (!row) break;
        Entry e;
        MV_RETURN_IF_ERROR(ReadEntry(s, &e));
        batch.push_back(std::move(e));
      }
    }
    for (const Entry& e : batch) {
      if (!fn(e)) return Status::Ok();
    }
    if (batch.size() < kForEachBatch) return Status::Ok();
    after = ToSql(batch.back().meta.id);
  }
}

Status SqliteIndex::Clear() {
  if (writer_ == nullptr) return ReadOnly();
  std::lock_guard<std::mutex> lock(write_mu_);
  db::Transaction txn(*writer_);
  MV_RETURN_IF_ERROR(txn.Begin(true));
  MV_RETURN_IF_ERROR(
      writer_->Exec("DELETE FROM copy_rcpt; DELETE FROM copies; INSERT INTO copies_fts(copies_fts) "
                    "VALUES('delete-all'); "
                    "UPDATE meta SET value = 0 WHERE key IN "
                    "('wm_segment', 'wm_offset', 'count', 'bytes', 'record_bytes');"));
  return txn.Commit();
}

Result<std::vector<CopyId>> SqliteIndex::FindDuplicates(CopyId id, const std::string& message_id,
                                                        const std::string& body_digest,
                                                        int64_t placed_at, int64_t window) {
  std::vector<CopyId> out;
  if (message_id.empty() || body_digest.empty()) return out;
  std::lock_guard<std::mutex> lock(read_mu_);
  // The digest index finds the few copies of the same body; the rest is
  // checked on those rows.
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      reader_->Prepare("SELECT id FROM copies WHERE body_digest = ?1 AND "
                                       "body_digest != '' AND message_id = ?2 AND id != ?3 AND "
                                       "placed_at >= ?4 AND placed_at <= ?5 ORDER BY id LIMIT 20"));
  db::StmtScope scope(s);
  db::BindText(s, 1, body_digest);
  db::BindText(s, 2, message_id);
  sqlite3_bind_int64(s, 3, ClampToSql(id));
  sqlite3_bind_int64(s, 4, placed_at - window);
  sqlite3_bind_int64(s, 5, placed_at + window);
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "find duplicates of copy " + std::to_string(id)));
    if (!row) break;
    out.push_back(ColU64(s, 0));
  }
  return out;
}

Result<std::vector<Entry>> SqliteIndex::EntriesEndingAfter(uint64_t segment, uint64_t end) {
  std::lock_guard<std::mutex> lock(read_mu_);
  MV_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      reader_->Prepare(std::string("SELECT ") + kColumns +
                                       " FROM copies c WHERE c.segment = ?1 AND "
                                       "c.offset + c.length > ?2 ORDER BY c.offset"));
  db::StmtScope scope(s);
  sqlite3_bind_int64(s, 1, ClampToSql(segment));
  sqlite3_bind_int64(s, 2, ClampToSql(end));
  std::vector<Entry> out;
  while (true) {
    MV_ASSIGN_OR_RETURN(bool row, db::Step(s, "entries of segment " + std::to_string(segment)));
    if (!row) break;
    Entry e;
    MV_RETURN_IF_ERROR(ReadEntry(s, &e));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

const db::Schema& IndexSchema() {
  static const db::Schema* schema = [] {
    auto* s = new db::Schema;
    s->kind = "index";
    s->version_key = "schema";
    s->migrations = {{2, kSchemaV2}, {3, kSchemaV3}, {4, kSchemaV4}};
    s->too_old_hint =
        "start mailvaultd, which upgrades or rebuilds it, or run `mailvault rebuild-index`";
    return s;
  }();
  return *schema;
}

Status CheckIndexFile(const std::string& path, const crypto::SymmetricKey& key,
                      const std::atomic<bool>* stop) {
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::EncryptedVfs> vfs, db::EncryptedVfs::Register(key));
  Status s = [&]() -> Status {
    db::EncryptedDbOptions o;
    o.path = path;
    o.what_kind = "index";
    o.read_only = true;
    o.cache_bytes = 2 << 20;  // one pass over the pages: a cache would not be reused
    MV_ASSIGN_OR_RETURN(std::unique_ptr<db::SqliteDb> db, db::OpenEncryptedDb(*vfs, o));
    if (stop != nullptr) {
      sqlite3_progress_handler(
          db->get(), 1000,
          [](void* p) { return static_cast<const std::atomic<bool>*>(p)->load() ? 1 : 0; },
          const_cast<std::atomic<bool>*>(stop));
    }
    MV_RETURN_IF_ERROR(db::MigrateSchema(*db, IndexSchema(), /*writer=*/false).status());
    MV_ASSIGN_OR_RETURN(std::string verdict, db->QueryText("PRAGMA quick_check"));
    if (verdict != "ok") return Status::Corruption(path + ": " + verdict);
    return Status::Ok();
  }();
  return s.Annotate("check index");
}

Result<std::unique_ptr<Index>> Index::Open(const IndexOptions& options,
                                           const crypto::SymmetricKey& key) {
  if (options.path.empty()) return Status::InvalidArgument("index path is empty");
  const std::string& path = options.path;
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::EncryptedVfs> vfs, db::EncryptedVfs::Register(key));
  const std::string what = "open index " + path;
  db::EncryptedDbOptions db_options;
  db_options.path = path;
  db_options.what_kind = "index";
  db_options.read_only = options.read_only;
  db_options.sync_commits = options.sync_commits;
  if (options.read_only) {
    db_options.cache_bytes = options.cache_bytes;
    MV_ASSIGN_OR_RETURN(db::OpenedDb reader, db::OpenDatabase(*vfs, db_options, IndexSchema()));
    return std::unique_ptr<Index>(
        new SqliteIndex(std::move(vfs), nullptr, std::move(reader.db), options.sync_commits));
  }
  // The writer creates and lays out the file; the reader opens it after.
  db_options.cache_bytes = options.cache_bytes / 2;
  auto opened = db::OpenDatabase(*vfs, db_options, IndexSchema());
  if (!opened.ok()) return opened.status().Annotate(what);
  std::unique_ptr<db::SqliteDb> writer = std::move(opened->db);
  MV_ASSIGN_OR_RETURN(std::unique_ptr<db::SqliteDb> reader,
                      db::SqliteDb::Open(path, vfs->name(), SQLITE_OPEN_READWRITE));
  MV_RETURN_IF_ERROR(db::ConfigureConnection(*reader, options.cache_bytes / 2, options.sync_commits)
                         .Annotate(what));
  MV_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only=1").Annotate(what));
  return std::unique_ptr<Index>(
      new SqliteIndex(std::move(vfs), std::move(writer), std::move(reader), options.sync_commits));
}

}  // namespace mailvault::index
