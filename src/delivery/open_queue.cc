// OpenQueue (see open_queue.h).
#include "delivery/open_queue.h"

#include <string.h>

#include "crypto/keyring.h"

namespace mailvault::delivery {

std::string QueuePath(const std::string& data_dir) { return JoinPath(data_dir, "deliveries.db"); }

Result<std::unique_ptr<index::QueueDb>> OpenQueue(Env& env, const std::string& data_dir,
                                                  const std::string& keys_dir, bool read_only) {
  const std::string dir = keys_dir.empty() ? JoinPath(data_dir, "keys") : keys_dir;
  MV_ASSIGN_OR_RETURN(auto keys, crypto::KeyRing::Open(env, dir, /*need_secrets=*/false));
  crypto::SymmetricKey key = keys->Derived(crypto::KeyPurpose::kDeliveryQueue);
  index::QueueDbOptions options;
  options.path = QueuePath(data_dir);
  options.read_only = read_only;
  if (!read_only) MV_RETURN_IF_ERROR(CreatePrivateFileIfMissing(env, options.path));
  auto queue = index::QueueDb::Open(options, key);
  ::explicit_bzero(key.data(), key.size());
  if (!queue.ok()) return queue.status().Annotate("open the delivery queue " + options.path);
  // A new database file's name must survive a crash like its contents.
  if (!read_only) MV_RETURN_IF_ERROR(env.SyncDir(data_dir));
  return queue;
}

}  // namespace mailvault::delivery
