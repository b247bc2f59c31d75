// Opening the delivery queue of a store: DATA/deliveries.db, encrypted under
// a key derived from the store's index key (so whoever may read the index
// may read the queue, and a page of one database cannot be passed off as a
// page of the other).
#pragma once

#include <memory>
#include <string>

#include "crypto/keyring.h"
#include "delivery/queue_db.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "mailvault/status.h"

namespace mailvault::delivery {

// The queue's file in a data dir.
std::string QueuePath(const std::string& data_dir);

// Opens (a writer: creates) the queue of the store in `data`, with the key
// ring `keys` of the process (used during the call only; secret keys not
// needed). A writer must hold the store's lock, so that one process at a
// time changes the queue.
Result<std::unique_ptr<index::QueueDb>> OpenQueue(Env& env, const DataDir& data,
                                                  const crypto::KeyRing& keys, bool read_only);

}  // namespace mailvault::delivery
