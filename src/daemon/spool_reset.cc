// Emptying the spool at start (see spool_reset.h).
#include "daemon/spool_reset.h"

namespace mailvault::daemon {

Result<int> EmptySpool(Env& env, const std::string& dir) {
  MV_RETURN_IF_ERROR(env.CreateDir(dir));
  MV_ASSIGN_OR_RETURN(std::vector<std::string> names, env.ListDir(dir));
  int removed = 0;
  for (const std::string& name : names) {
    if (name == "." || name == "..") continue;
    MV_RETURN_IF_ERROR(env.Remove(JoinPath(dir, name)).Annotate("empty the spool"));
    ++removed;
  }
  if (removed > 0) MV_RETURN_IF_ERROR(env.SyncDir(dir));
  return removed;
}

}  // namespace mailvault::daemon
