// OpenQueue (see open_queue.h).
#include "delivery/open_queue.h"

#include <string.h>

#include "crypto/keyring.h"

namespace mailvault::delivery {

std::string QueuePath(const std::string& data_dir) { return DataDir(data_dir).deliveries(); }

Result<std::unique_ptr<index::QueueDb>> OpenQueue(Env& env, const DataDir& data,
                                                  const crypto::KeyRing& keys, bool read_only) {
  crypto::SymmetricKey key = keys.Derived(crypto::KeyPurpose::kDeliveryQueue);
  index::QueueDbOptions options;
  options.path = data.deliveries();
  options.read_only = read_only;
  if (!read_only) MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env, options.path));
  auto queue = index::QueueDb::Open(options, key);
  ::explicit_bzero(key.data(), key.size());
  if (!queue.ok()) return queue.status().Annotate("open the delivery queue " + options.path);
  // A new database file's name must survive a crash like its contents.
  if (!read_only) MV_RETURN_IF_ERROR(env.SyncDir(data.root()));
  return queue;
}

}  // namespace mailvault::delivery
