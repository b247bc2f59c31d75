// FaultEnv: failure injection and crash simulation over a real Env.
//
// Design note. The crash model is leveldb's: a file keeps only the bytes it
// had at its last successful Sync, and a file whose directory entry was never
// made durable (no SyncDir of its directory since it was created or renamed
// into place) disappears. A file FaultEnv had not seen before it was opened
// counts as durable at its size then. Rename over a durable file keeps the
// target name durable (a crash may legally leave either the old or the new
// contents; we keep the new ones up to their synced size). WriteAt inside the
// synced range is not undone by DropUnsyncedData. Base-Env calls are made
// outside mu_; only counters and the per-path table are guarded. Files still
// open across DropUnsyncedData keep a stale Size(): close them first.
#include "testutil/fault_env.h"

#include <utility>

namespace mailvault {
namespace {

const char* OpName(FaultEnv::Op op) {
  switch (op) {
    case FaultEnv::Op::kWrite:
      return "write";
    case FaultEnv::Op::kSync:
      return "sync";
    case FaultEnv::Op::kRename:
      return "rename";
    case FaultEnv::Op::kSyncDir:
      return "dir sync";
    case FaultEnv::Op::kAny:
      return "operation";
  }
  return "operation";
}

std::string StripSlashes(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string ParentOf(const std::string& path) {
  std::string p = StripSlashes(path);
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return StripSlashes(p.substr(0, slash));
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    MV_RETURN_IF_ERROR(env_->MaybeFail(FaultEnv::Op::kWrite, "append to " + path_));
    MV_RETURN_IF_ERROR(env_->ChargeWrite(data.size()));
    return base_->Append(data);
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    // Overwrites in place: no new space, so no budget charge.
    MV_RETURN_IF_ERROR(env_->MaybeFail(FaultEnv::Op::kWrite, "write into " + path_));
    return base_->WriteAt(offset, data);
  }
  Status Sync() override {
    MV_RETURN_IF_ERROR(env_->MaybeFail(FaultEnv::Op::kSync, "sync of " + path_));
    uint64_t size = base_->Size();  // what this fdatasync covers
    MV_RETURN_IF_ERROR(base_->Sync());
    env_->NoteSynced(path_, size);
    return Status::Ok();
  }
  uint64_t Size() const override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  FaultEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

FaultEnv::FaultEnv(Env* base) : base_(base) {}
FaultEnv::~FaultEnv() = default;

void FaultEnv::FailAt(Op op, uint64_t k, bool sticky) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = static_cast<size_t>(op);
  fail_at_[i] = k == 0 ? 0 : counts_[i] + k;
  sticky_[i] = k != 0 && sticky;
}

uint64_t FaultEnv::Count(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_[static_cast<size_t>(op)];
}

void FaultEnv::SetWriteBudget(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  write_budget_ = bytes;
}

Status FaultEnv::MaybeFail(Op op, const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  bool fail = false;
  for (size_t i : {static_cast<size_t>(op), static_cast<size_t>(Op::kAny)}) {
    uint64_t n = ++counts_[i];
    if (fail_at_[i] != 0 && (n == fail_at_[i] || (sticky_[i] && n > fail_at_[i]))) fail = true;
  }
  if (fail) return Status::IOError(std::string("injected ") + OpName(op) + " failure: " + what);
  return Status::Ok();
}

Status FaultEnv::ChargeWrite(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (write_budget_ == UINT64_MAX) return Status::Ok();
  if (bytes > write_budget_) return Status::NoSpace("injected: no space left on device");
  write_budget_ -= bytes;
  return Status::Ok();
}

void FaultEnv::NoteSynced(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it != files_.end()) it->second.synced_size = size;  // untracked: renamed while open
}

Status FaultEnv::DropUnsyncedData() {
  std::map<std::string, FileState> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files = files_;
  }
  Status first;
  auto note = [&first](Status s) {
    if (first.ok() && !s.ok()) first = std::move(s);
  };
  std::map<std::string, FileState> kept;
  for (const auto& [path, state] : files) {
    if (!base_->Exists(path)) continue;
    if (!state.dir_synced) {
      note(base_->Remove(path));
      continue;
    }
    Result<uint64_t> size = base_->FileSize(path);
    if (!size.ok()) {
      note(size.status());
    } else if (*size > state.synced_size) {
      note(base_->Truncate(path, state.synced_size));
    }
    kept[path] = state;
  }
  std::lock_guard<std::mutex> lock(mu_);
  files_ = std::move(kept);
  return first;
}

Result<std::unique_ptr<WritableFile>> FaultEnv::OpenAppendable(const std::string& path) {
  bool existed = base_->Exists(path);
  MV_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->OpenAppendable(path));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count(path) == 0) {
      files_[path] = existed ? FileState{file->Size(), true} : FileState{0, false};
    }
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultEnv::OpenRandomAccess(const std::string& path) {
  return base_->OpenRandomAccess(path);
}

Result<std::unique_ptr<TempFile>> FaultEnv::NewTempFile(const std::string& dir) {
  return base_->NewTempFile(dir);
}

Status FaultEnv::WriteFileAtomic(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  if (base_->Exists(tmp)) MV_RETURN_IF_ERROR(Truncate(tmp, 0));
  Status s = [&]() -> Status {
    MV_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, OpenAppendable(tmp));
    MV_RETURN_IF_ERROR(f->Append(contents));
    MV_RETURN_IF_ERROR(f->Sync());
    MV_RETURN_IF_ERROR(f->Close());
    return Rename(tmp, path);
  }();
  if (!s.ok()) {
    if (base_->Exists(tmp)) Remove(tmp).IgnoreError();  // as PosixEnv: no temp file left behind
    return s;
  }
  return SyncDir(ParentOf(path));
}

Result<std::string> FaultEnv::ReadFile(const std::string& path) { return base_->ReadFile(path); }

Status FaultEnv::CreateDir(const std::string& path) { return base_->CreateDir(path); }

Status FaultEnv::SyncDir(const std::string& path) {
  MV_RETURN_IF_ERROR(MaybeFail(Op::kSyncDir, "dir sync of " + path));
  MV_RETURN_IF_ERROR(base_->SyncDir(path));
  const std::string dir = StripSlashes(path);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [file, state] : files_) {
    if (ParentOf(file) == dir) state.dir_synced = true;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> FaultEnv::ListDir(const std::string& path) {
  return base_->ListDir(path);
}

bool FaultEnv::Exists(const std::string& path) { return base_->Exists(path); }

Result<uint64_t> FaultEnv::FileSize(const std::string& path) { return base_->FileSize(path); }

Status FaultEnv::Rename(const std::string& from, const std::string& to) {
  MV_RETURN_IF_ERROR(MaybeFail(Op::kRename, "rename " + from + " to " + to));
  // Paths FaultEnv never saw predate it and count as durable at their size.
  bool from_tracked, to_tracked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from_tracked = files_.count(from) != 0;
    to_tracked = files_.count(to) != 0;
  }
  FileState untracked_from{0, true};
  if (!from_tracked) {
    Result<uint64_t> size = base_->FileSize(from);
    if (size.ok()) untracked_from.synced_size = *size;
  }
  bool untracked_to_exists = !to_tracked && base_->Exists(to);
  MV_RETURN_IF_ERROR(base_->Rename(from, to));

  std::lock_guard<std::mutex> lock(mu_);
  FileState moved = untracked_from;
  if (auto it = files_.find(from); it != files_.end()) {
    moved = it->second;
    files_.erase(it);
  }
  // Replacing a durable name: after a crash that name still exists (with the
  // old or the new contents; we keep the new).
  auto target = files_.find(to);
  bool to_durable = target != files_.end() ? target->second.dir_synced : untracked_to_exists;
  moved.dir_synced = moved.dir_synced || to_durable;
  files_[to] = moved;
  return Status::Ok();
}

Status FaultEnv::Remove(const std::string& path) {
  auto size = base_->FileSize(path);
  MV_RETURN_IF_ERROR(base_->Remove(path));
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
  // On a full disk, removing a file gives its room back.
  if (write_budget_ != UINT64_MAX && size.ok()) write_budget_ += *size;
  return Status::Ok();
}

Status FaultEnv::Truncate(const std::string& path, uint64_t size) {
  MV_RETURN_IF_ERROR(base_->Truncate(path, size));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = files_.find(path); it != files_.end() && it->second.synced_size > size) {
    it->second.synced_size = size;
  }
  return Status::Ok();
}

Status FaultEnv::PunchHole(const std::string& path, uint64_t offset, uint64_t len) {
  return base_->PunchHole(path, offset, len);
}

Result<uint64_t> FaultEnv::FreeSpace(const std::string& path) { return base_->FreeSpace(path); }

Result<uint64_t> FaultEnv::AllocatedSize(const std::string& path) {
  return base_->AllocatedSize(path);
}

Result<std::unique_ptr<FileLock>> FaultEnv::TryLock(const std::string& path) {
  return base_->TryLock(path);
}

int64_t FaultEnv::NowMicros() {
  int64_t fixed = clock_.load();
  return fixed != 0 ? fixed : base_->NowMicros();
}

void FaultEnv::SetClock(int64_t micros) { clock_ = micros; }

void FaultEnv::AdvanceClock(int64_t micros) { clock_ += micros; }

std::string FaultEnv::HostName() { return base_->HostName(); }

}  // namespace mailvault
