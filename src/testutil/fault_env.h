// FaultEnv: an Env for tests that wraps a real one and injects the failures a
// storage engine must survive (leveldb db/fault_injection_test.cc):
//  - fail the k-th Append/WriteAt, Sync, Rename or SyncDir (counting from 1
//    over all files, per kind or over all kinds together), returning IOError,
//    and optionally every call after it too;
//  - simulate a crash: DropUnsyncedData() truncates every file written
//    through this Env back to its size at its last successful Sync (a file
//    created but whose directory was never synced is removed), exactly what
//    a power loss may do.
//  - report a full disk: NoSpace from every Append after a byte budget.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "env/env.h"

namespace mailvault {

class FaultEnv final : public Env {
 public:
  enum class Op { kWrite, kSync, kRename, kSyncDir, kAny };

  // `base` must outlive this object.
  explicit FaultEnv(Env* base);
  ~FaultEnv() override;

  // Fails the k-th (1-based) operation of kind `op` from now; with `sticky`,
  // every later one of that kind fails too. k = 0 disarms.
  void FailAt(Op op, uint64_t k, bool sticky = false);
  // Number of operations of kind `op` seen since construction.
  uint64_t Count(Op op) const;
  // Appends beyond `bytes` more bytes return NoSpace; UINT64_MAX disarms.
  // While armed, Remove gives the removed file's size back to the budget.
  void SetWriteBudget(uint64_t bytes);
  // Truncates every tracked file to its last synced size; removes files
  // created since the last sync of their directory.
  Status DropUnsyncedData();
  // Fixes NowMicros() at `micros` (for timeouts and throttles); 0 goes back
  // to the base clock. AdvanceClock moves a fixed clock on.
  void SetClock(int64_t micros);
  void AdvanceClock(int64_t micros);

  // Env
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override;
  // Not fault-injected: temp files never hold acknowledged data.
  Result<std::unique_ptr<TempFile>> NewTempFile(const std::string& dir) override;
  Status WriteFileAtomic(const std::string& path, std::string_view contents) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status PunchHole(const std::string& path, uint64_t offset, uint64_t len) override;
  Result<uint64_t> FreeSpace(const std::string& path) override;
  Result<uint64_t> AllocatedSize(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> TryLock(const std::string& path) override;
  int64_t NowMicros() override;
  std::string HostName() override;

  // Used by FaultEnv's files; not for tests.
  Status MaybeFail(Op op, const std::string& what);
  Status ChargeWrite(uint64_t bytes);
  void NoteSynced(const std::string& path, uint64_t size);

 private:
  struct FileState {
    uint64_t synced_size = 0;
    bool dir_synced = false;  // the file's creation is durable
  };
  Env* base_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;  // guarded by mu_
  uint64_t counts_[5] = {};                 // guarded by mu_
  uint64_t fail_at_[5] = {};                // guarded by mu_
  bool sticky_[5] = {};                     // guarded by mu_
  uint64_t write_budget_ = UINT64_MAX;      // guarded by mu_
  std::atomic<int64_t> clock_{0};           // 0: the base clock
};

}  // namespace mailvault
