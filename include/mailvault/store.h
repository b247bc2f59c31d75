// Store: the encrypted Backup. Copies live in append-only segment files (the
// source of truth, docs/store-format.md) and are found through an encrypted
// SQLite index that can be rebuilt from the segments.
//
// Writing: Put() may be called from many threads at once. Concurrent puts
// are group-committed: one append run, one fsync, then every waiting caller
// is answered, before the index transaction, which follows on a thread of
// its own. So Put returns OK once the copy is durable (synced in its
// segment, the source of truth), not once it is indexed; every read first
// waits until each acknowledged copy is indexed, so a caller always finds
// what it put. Only one process may open
// a store for writing (the LOCK file); a second gets Unavailable naming the
// holder.
//
// Reading (Get, Read, Search, Stats, Verify) is thread-safe and also works in
// a read-only Store opened while another process writes.
//
// After an fsync fails the store refuses further writes (Unavailable) until it
// is reopened: the kernel may have dropped the unsynced pages, so only
// recovery at open can say what is on disk (CONVENTIONS.md §6).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/byte_source.h"
#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault::crypto {
class KeyRing;
}  // namespace mailvault::crypto

namespace mailvault {

class Env;

// How far apart two copies of one message may be placed to be shown as
// possible duplicates of each other (one hour).
inline constexpr int64_t kDuplicateWindowMicros = 3'600'000'000;

// The size cap of a new store (7.32 GB); Store::SetMaxSize changes it.
inline constexpr uint64_t kDefaultMaxSize = 7'320'000'000;

struct StoreOptions {
  std::string dir = "./var";
  std::string keys_dir;  // default: dir + "/keys"
  // The process's key ring (borrowed: it must outlive the store), so that
  // the daemon and a CLI command open the keys once for every component;
  // with need_secret_key the current secret key must be in it. nullptr: the
  // store opens the ring in keys_dir itself.
  crypto::KeyRing* keys = nullptr;
  bool read_only = false;       // no lock, no recovery, no writes
  bool need_secret_key = true;  // false: a writer that can seal but never read
  Env* env = nullptr;           // default: the real file system
  uint64_t segment_size = 0;    // target segment size; 0 = min(64 MB, max_size / 16)
  // A writer: build a new index from the segments at open instead of using
  // the one on disk (`mailvault rebuild-index`); a damaged one is set aside.
  bool rebuild_index = false;
  // A writer: check every page of the index in the background after open
  // (SQLite quick_check, minutes for millions of copies) and rebuild the
  // index if it is damaged (the daemon sets this). Without it, damage is
  // found at the first failed page read.
  bool check_index = false;
  // The index's SQLite page cache, its writer and its reader together
  // (`[store] index_cache`). It fills as the index is used and then stays
  // at this size: the largest part of the daemon's memory that grows.
  uint64_t index_cache_bytes = 64 << 20;
  // Called (from the committing thread) for events an operator should see:
  // eviction, recovery actions. May be empty.
  std::function<void(std::string_view kind, std::string_view message)> on_event;
  // Called (from the committing thread, at most every 10 s while copies
  // are written) with the free bytes of the data file system, for whoever
  // watches it (policy::Settings::OnFreeSpace). May be empty.
  std::function<void(uint64_t free_bytes)> on_free_space;
};

// The message is given in exactly one of two ways: `raw`, bytes in memory,
// or `source`, read piecewise so a large message is never whole in memory
// (a message of 1 MB and up is read one 64 KiB chunk at a time by whichever
// thread appends it to the segment; a smaller one is read whole by Put's
// own thread). Setting both is InvalidArgument.
struct PutRequest {
  std::string_view raw;  // the message exactly as received; must stay valid during Put
  // Alternative to raw: read piecewise, must outlive Put. It may be read
  // from another thread than Put's (so its ReadAt must allow that) and its
  // size must not change. A read error fails this Put alone (the error
  // annotated, its code kept) and leaves the store as before.
  const ByteSource* source = nullptr;
  std::string mail_from;
  std::vector<std::string> rcpt;
  std::string rule_id;
  std::map<std::string, std::string> statuses;  // engine -> label, validated
  std::string reason;
  std::string queue_id;
  int64_t received_at = 0;  // 0: now
  // The message's header fields and attachments, already extracted from
  // these bytes (the milter parses each message once); must stay valid
  // during Put. Null: the store extracts them itself.
  const MessageMetadata* metadata = nullptr;
};

struct StoreStats {
  uint64_t count = 0;
  uint64_t bytes = 0;  // on disk: segment files
  uint64_t message_bytes = 0;
  uint64_t max_bytes = 0;
  uint64_t segments = 0;
  int64_t oldest = 0;  // placed_at; 0 when empty
  int64_t newest = 0;
  uint64_t free_bytes = 0;  // free space on the data file system
};

// Whether the store takes copies, as the gateway sees it: unavailable
// from the first Put refused for want of the store (full disk, I/O error,
// stopped store) until the next Put that succeeds.
struct Availability {
  int64_t unavailable_since = 0;  // micros since the epoch; 0: available
  std::string reason;             // the last refusal
  uint64_t refused = 0;           // puts refused since
};

struct VerifyReport {
  uint64_t checked = 0;
  std::vector<std::string> problems;  // one line each; empty means all good
};

// What AcceptLoss did.
struct LossReport {
  std::vector<CopyId> lost;          // the copies given up, in id order
  std::vector<std::string> actions;  // one line per change made to the store
};

class Store {
 public:
  // Creates a new store in options.dir (0700) with its first key;
  // AlreadyExists if it is one already.
  static Status Init(const StoreOptions& options);
  // Opens it; for a writer, takes the lock, cuts a torn tail and indexes
  // records the index missed. InvalidArgument if dir is not a store.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  virtual ~Store() = default;

  // Stores a copy durably; returns its id. InvalidArgument for a bad request
  // (unknown engine/label, empty message), Unavailable/NoSpace/IOError when
  // the store cannot take it, or the source's error when the message cannot
  // be read.
  virtual Result<CopyId> Put(const PutRequest& request) = 0;

  virtual Result<CopyMeta> Get(CopyId id) = 0;
  // Other copies that are probably the same message kept twice (a sender's
  // retry after the end-of-message reply was lost): the same Message-ID and
  // the same body within kDuplicateWindowMicros, ids oldest first. Empty for
  // a copy without a Message-ID, or stored before bodies were digested.
  virtual Result<std::vector<CopyId>> PossibleDuplicates(CopyId id) = 0;
  // The exact bytes received, whole (ReadTo into one string). Corruption if
  // the record fails its checks.
  Result<std::string> Read(CopyId id);
  // The same bytes handed to `sink` piece by piece (64 KiB), each piece
  // authenticated first, so a copy of any size needs little memory. On
  // Corruption the sink has seen a prefix the caller must discard; a sink
  // error stops the read and is returned.
  virtual Status ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) = 0;
  virtual Result<SearchPage> Search(const SearchQuery& query) = 0;
  // Deletes copies for good (their bytes are freed); NotFound names any id
  // that was not there (the others are still deleted).
  virtual Status Delete(const std::vector<CopyId>& ids) = 0;

  // OK while the store takes writes; otherwise why not (read-only, or
  // stopped after a failed fsync or index commit until it is reopened).
  virtual Status Writable() = 0;

  virtual Result<StoreStats> Stats() = 0;
  // Since when the store refuses copies, if it does (health, the console).
  virtual Availability availability() = 0;
  virtual Result<VerifyReport> Verify() = 0;
  // Recreates the index from the segment files alone, whatever state the
  // index is in: a new index file is built beside the old one and swapped
  // in. Writes wait meanwhile.
  virtual Status RebuildIndex() = 0;
  // The administrator accepts what damage took (`mailvault repair
  // --accept-loss`): copies whose records fail their checks leave the
  // index, damaged regions of the segments are framed as deleted records,
  // damaged tails are cut, and the record of copies lost earlier (a segment
  // cut short at open) is cleared, so that Verify is clean again. Returns
  // every id given up; the caller records them (audit). Writes wait.
  virtual Result<LossReport> AcceptLoss() = 0;

  // The size cap: bytes of copies kept (segment files); above it the
  // oldest are evicted. SetMaxSize keeps it with the store (a writer only:
  // Unavailable read-only; InvalidArgument for 0) and evicts at once when
  // it is lower.
  virtual uint64_t max_size() = 0;
  virtual Status SetMaxSize(uint64_t bytes) = 0;

  // Key management (`mailvault keys`): `AddKey` makes a new current key.
  struct KeyInfo {
    uint32_t id = 0;
    bool current = false;
    bool has_secret = false;
    std::string fingerprint;
  };
  virtual Result<KeyInfo> AddKey() = 0;
  virtual std::vector<KeyInfo> Keys() = 0;
};

}  // namespace mailvault
