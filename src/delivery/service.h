// DeliveryService: takes delivery requests (API, CLI, console), checks them
// against the Backup and the site's policy, and puts them into the queue.
// The sender (sender.h) does the sending.
//
// A request names copies and targets (their original recipients and/or
// additional addresses). It is all or nothing: if any copy or target is
// refused, nothing is queued and the error lists every problem. Refusals:
//   InvalidArgument   no copy, no target, an address the RFC 5322 parser
//                     rejects, a copy without original recipients
//   NotFound          an unknown copy id
//   PermissionDenied  an Anti-Virus label infected / probably-infected while
//                     allow_infected_delivery is no
//   AlreadyExists     the copy was already delivered to (or is queued for)
//                     that recipient and `again` is not set: some mail
//                     systems refuse a second release, so a repeat is asked
//                     for explicitly
// Delivery never changes or removes a copy.
//
// Thread-safe (the store, policy and queue are); `store`, `policy` (whether
// infected copies may be delivered) and `queue` are borrowed and must
// outlive the service.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "delivery/queue_db.h"
#include "env/env.h"
#include "mailvault/delivery.h"
#include "mailvault/status.h"
#include "mailvault/store.h"
#include "policy/settings.h"

namespace mailvault::delivery {

struct DeliveryRequest {
  std::vector<CopyId> ids;
  bool original = false;        // to each copy's original recipients
  std::vector<std::string> to;  // additional addresses (any RFC 5322 mailbox form)
  DeliveryFormat format = DeliveryFormat::kAsIs;
  bool remove_message_id = false;
  bool again = false;        // deliver even where it was delivered before
  std::string requested_by;  // for the queue and the log ("cli:root", "api")
};

struct EnqueueResult {
  uint64_t request = 0;
  std::vector<DeliveryEntry> entries;  // one per copy and recipient
};

// The labels that make a copy "infected" for the policy.
bool IsInfected(const CopyMeta& meta);

class DeliveryService {
 public:
  // `lifetime_micros` bounds retries (an entry's expires_at). `wake` (may
  // be empty) is called after entries were queued so the sender looks at
  // once. Entries record the copy's original envelope sender; the sender
  // applies a configured one when it sends.
  DeliveryService(Env& env, Store& store, const policy::Settings& policy, index::QueueDb& queue,
                  int64_t lifetime_micros, std::function<void()> wake)
      : env_(env),
        store_(store),
        policy_(policy),
        queue_(queue),
        lifetime_micros_(lifetime_micros),
        wake_(std::move(wake)) {}

  // Validates and queues durably (see above); the entries as stored.
  Result<EnqueueResult> Enqueue(const DeliveryRequest& request);
  Result<DeliveryPage> List(const DeliveryQuery& query) { return queue_.List(query); }
  Result<DeliveryCounts> Counts() { return queue_.Counts(); }

 private:
  Env& env_;
  Store& store_;
  const policy::Settings& policy_;
  index::QueueDb& queue_;
  const int64_t lifetime_micros_;
  const std::function<void()> wake_;
};

}  // namespace mailvault::delivery
