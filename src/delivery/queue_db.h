// QueueDb: the delivery queue (mailvault/delivery.h) in its own SQLite
// database, DATA/deliveries.db, encrypted page by page like the index
// (encrypted_vfs.h) under a key derived from the index key.
//
// Why not in index.db: the index is disposable (it is deleted and rebuilt
// from the segments when it is damaged), the queue is not: it holds requests
// nobody can reconstruct and the delivery history the `--again` rule needs.
//
// It also keeps the release nonces intake has honoured (ConsumeRelease):
// the queue is the durable side state the daemon already keeps beside the
// store, under the same key, written by the process that signs releases.
//
// Durability: Enqueue and ConsumeRelease commit with a WAL fsync before
// they return. Claims and results commit without one (WAL,
// synchronous=NORMAL): they survive a crash of the process, and a power
// loss can only take back the last ones, which makes an entry be sent
// again, never lost.
//
// Thread-safe: every method takes an internal lock. A read-only QueueDb
// (the CLI's `queue` while mailvaultd runs) reads beside a writer in another
// process; its writing methods return PermissionDenied. Writers in several
// processes are safe too: each write is one IMMEDIATE transaction.
//
// Ids and request numbers are never handed out twice, not even after
// ForgetFinished removed the newest entries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keyring.h"
#include "mailvault/delivery.h"
#include "mailvault/status.h"

namespace mailvault::index {

struct QueueDbOptions {
  std::string path;  // the database file
  bool read_only = false;
};

// What one attempt did to one entry.
struct DeliveryOutcome {
  uint64_t id = 0;
  DeliveryState state = DeliveryState::kDelivered;  // delivered, deferred or failed
  std::string reply;
  int64_t next_attempt_at = 0;  // for deferred
};

class QueueDb {
 public:
  // Opens or creates the database (read-only: NotFound if it does not
  // exist or was never given its schema). `key` is the queue key:
  // KeyRing::Derived(crypto::KeyPurpose::kDeliveryQueue). Corruption if the
  // key does not open it or if the file is not a queue (an index, say);
  // InvalidArgument if its schema is newer than this code knows.
  static Result<std::unique_ptr<QueueDb>> Open(const QueueDbOptions& options,
                                               const crypto::SymmetricKey& key);
  virtual ~QueueDb() = default;

  // Adds the entries as one new request, durably, all or nothing. Fills in
  // id, request, state queued, attempts 0 and updated_at = created_at; keeps
  // the rest as given. Returns them as stored. InvalidArgument (nothing
  // stored) for an entry without copy id or rcpt; no entries is no request
  // and returns none.
  virtual Result<std::vector<DeliveryEntry>> Enqueue(std::vector<DeliveryEntry> entries) = 0;

  // Every entry of `copy_id`, oldest first (the --again check).
  virtual Result<std::vector<DeliveryEntry>> ForCopy(CopyId copy_id) = 0;

  // Moves up to `max` entries that are queued or deferred and due
  // (next_attempt_at <= now) to sending, in one transaction, and returns
  // them (as now stored) ordered by request, copy id and entry id, so that
  // entries of one request and copy lie next to each other. Entries claimed
  // by one call are never returned by another until recorded.
  virtual Result<std::vector<DeliveryEntry>> ClaimDue(int64_t now, size_t max) = 0;

  // Records attempts: each entry gets its state, last_reply, updated_at =
  // now and (for deferred) next_attempt_at; attempts grows by one. One
  // transaction: NotFound ("no delivery entry N") for an unknown id and
  // InvalidArgument for a state other than those three record nothing.
  virtual Status Record(const std::vector<DeliveryOutcome>& outcomes, int64_t now) = 0;

  // Puts entries left in `sending` (by a crash) back to queued, due at
  // `now` (updated_at = now too); returns how many. Call once at the
  // sender's start.
  virtual Result<uint64_t> RequeueInterrupted(int64_t now) = 0;

  // The earliest next_attempt_at of a queued or deferred entry; nullopt when
  // there is none.
  virtual Result<std::optional<int64_t>> NextDue() = 0;

  // InvalidArgument for limit 0; limits above 2^20 are capped.
  virtual Result<DeliveryPage> List(const DeliveryQuery& query) = 0;
  virtual Result<DeliveryEntry> Get(uint64_t id) = 0;  // NotFound
  virtual Result<DeliveryCounts> Counts() = 0;

  // Distinct copy ids of delivered and failed entries, and removing those
  // entries for copies that are gone (housekeeping: the history of a copy
  // matters only while the copy exists). Returns the entries removed.
  virtual Result<std::vector<CopyId>> FinishedCopies() = 0;
  virtual Result<uint64_t> ForgetFinished(const std::vector<CopyId>& copy_ids) = 0;

  // Single use of release headers (crypto/release.h): records `nonce` as
  // consumed until `expires_at` (micros; after that the header's age refuses
  // it anyway) and answers whether it was new: true the first time, false
  // when it was consumed before. The record is durable (WAL fsynced) before
  // this returns, so a header honoured once is refused after a crash too.
  // Records whose expires_at is before `now` are removed on the way.
  // InvalidArgument for an empty nonce.
  virtual Result<bool> ConsumeRelease(std::string_view nonce, int64_t expires_at, int64_t now) = 0;
};

}  // namespace mailvault::index
