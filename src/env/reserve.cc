// The space reserve (reserve.h): made at open, given up for a settings write
// on a full disk.
#include "env/reserve.h"

#include <algorithm>

#include "env/data_dir.h"

namespace mailvault {

Status EnsureReserve(Env& env, const std::string& dir) {
  const std::string path = DataDir(dir).reserve();
  auto size = env.FileSize(path);
  if (size.ok() && *size >= kReserveBytes) return Status::Ok();
  Status s = [&]() -> Status {
    MV_ASSIGN_OR_RETURN(auto f, env.OpenAppendable(path));
    const std::string zeros(64 << 10, '\0');
    while (f->Size() < kReserveBytes) {
      MV_RETURN_IF_ERROR(f->Append(std::string_view(zeros).substr(
          0, std::min<uint64_t>(zeros.size(), kReserveBytes - f->Size()))));
    }
    MV_RETURN_IF_ERROR(f->Sync());
    MV_RETURN_IF_ERROR(f->Close());
    return env.SyncDir(dir);
  }();
  if (!s.ok()) env.Remove(path).IgnoreError();  // a part of a reserve only takes room
  return s.Annotate("keep a reserve of free space");
}

Status WriteFileUsingReserve(
    Env& env, const std::string& dir, const std::string& path, std::string_view contents,
    const std::function<void(std::string_view kind, std::string_view message)>& on_event) {
  Status s = env.WriteFileAtomic(path, contents);
  const std::string reserve = DataDir(dir).reserve();
  if (s.code() != Code::kNoSpace || !env.Exists(reserve)) return s;
  MV_RETURN_IF_ERROR(env.Remove(reserve));
  if (on_event) {
    on_event("reserve_released", "the disk is full: released the space reserve to write " + path +
                                     " (" + s.message() + ")");
  }
  MV_RETURN_IF_ERROR(env.WriteFileAtomic(path, contents));
  // Most likely still full; the reserve is made again at the next open.
  EnsureReserve(env, dir).IgnoreError();
  return Status::Ok();
}

}  // namespace mailvault
