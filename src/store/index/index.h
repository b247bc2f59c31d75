// Index: the searchable catalogue of copies, in SQLite (WAL mode) with an
// FTS5 trigram table for substring search. It can always be rebuilt from the
// segment files, which are the source of truth.
//
// The database file, its WAL and every page SQLite writes are encrypted by
// an encrypting VFS (encrypted_vfs.h) under the key ring's index key, so no
// field of any copy is on disk in clear. SQLite temp storage is kept in
// memory.
//
// One Index object is used by one writer thread (the store's committer) and
// any number of reader threads; each method takes an internal lock, reads
// may run concurrently with a writer in another process (WAL).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keyring.h"
#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault::db {
struct Schema;
}  // namespace mailvault::db

namespace mailvault::index {

// Where a copy's record lies in the segment files.
struct Location {
  uint64_t segment = 0;
  uint64_t offset = 0;  // of the record header
  uint64_t length = 0;  // whole record, header to trailer
  uint32_t key_id = 0;
  bool operator==(const Location&) const = default;
};

// How far the segments have been indexed: every record that ends at or
// before (segment, offset) is in the index or was deliberately removed.
struct Watermark {
  uint64_t segment = 0;
  uint64_t offset = 0;
  bool operator==(const Watermark&) const = default;
};

struct Entry {
  CopyMeta meta;
  Location loc;
};

struct IndexStats {
  uint64_t count = 0;
  uint64_t bytes = 0;         // sum of message sizes
  uint64_t record_bytes = 0;  // sum of record lengths
  int64_t oldest = 0;         // placed_at, 0 when empty
  int64_t newest = 0;
  CopyId max_id = 0;
};

struct IndexOptions {
  std::string path;  // the database file
  bool read_only = false;
  size_t cache_bytes = 64 << 20;
  // With false, a commit is atomic but not fsynced (SQLite WAL,
  // synchronous=NORMAL): a power loss may take back the last commits. The
  // store uses that: its segments are synced first and recovery re-indexes
  // everything past the watermark, so one fsync per batch is enough.
  bool sync_commits = true;
};

class Index {
 public:
  // Opens or creates the database. Corruption if the key does not open it
  // (wrong key, or not an index); the caller may then rebuild.
  static Result<std::unique_ptr<Index>> Open(const IndexOptions& options,
                                             const crypto::SymmetricKey& key);
  virtual ~Index() = default;

  // Adds the entries and moves the watermark, in one transaction: all or
  // nothing. Ids must be new.
  virtual Status Insert(const std::vector<Entry>& entries, const Watermark& mark) = 0;
  virtual Result<Watermark> GetWatermark() = 0;

  virtual Result<SearchPage> Search(const SearchQuery& query) = 0;
  // NotFound if the id is not indexed.
  virtual Result<Entry> Get(CopyId id) = 0;
  // Removes the ids that exist; returns the entries removed.
  virtual Result<std::vector<Entry>> Remove(const std::vector<CopyId>& ids) = 0;
  // Removes every entry in segments <= `segment` (eviction); returns the count.
  virtual Result<uint64_t> RemoveSegmentsUpTo(uint64_t segment) = 0;
  virtual Result<IndexStats> Stats() = 0;
  // Calls fn for every entry in id order; stops early if fn returns false.
  virtual Status ForEach(const std::function<bool(const Entry&)>& fn) = 0;
  // Removes everything (rebuild-index starts from here).
  virtual Status Clear() = 0;
  // Ids of other copies with the same Message-ID and body digest placed
  // within `window` micros of `m` (at most 20, oldest first): probably the
  // same message kept twice. Empty if either is empty.
  virtual Result<std::vector<CopyId>> FindDuplicates(CopyId id, const std::string& message_id,
                                                     const std::string& body_digest,
                                                     int64_t placed_at, int64_t window) = 0;
  // The entries of `segment` whose records end after `end` (a segment cut
  // short below the watermark lost them), in offset order.
  virtual Result<std::vector<Entry>> EntriesEndingAfter(uint64_t segment, uint64_t end) = 0;
};

// The index's numbered migrations (meta 'schema'): 2 created it (an older
// index is rebuilt from the segments), 3 added the body digest, 4 the
// recipient table (SearchQuery::recipients), filled from the copies in place.
const db::Schema& IndexSchema();

// Checks every page of the index file at `path` (SQLite `PRAGMA
// quick_check` through the encrypting VFS, on a connection of its own, so
// each page is authenticated and every b-tree walked): OK, Corruption naming
// the first problem, or another error if the check could not run (Aborted
// as IOError when `stop` became true). Reads the whole file: minutes for an
// index of millions of copies, so callers run it in the background. Thread-
// safe; may run beside a writer in this or another process.
Status CheckIndexFile(const std::string& path, const crypto::SymmetricKey& key,
                      const std::atomic<bool>* stop = nullptr);

}  // namespace mailvault::index
