// Helpers shared by the benchmarks in bench/: flags, timing and statistics,
// scratch directories, markdown tables, realistic synthetic messages, and a
// counting Env that tells how many fsyncs the store issued on its segments.
//
// Benchmarks are plain programs with their own timing loops. They print one
// markdown section each; bench/run.sh assembles them into BENCHMARKS.md.
// Nothing here asserts on timing: numbers are reported, never judged.
// Not thread-safe unless a comment says so.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "env/env.h"

namespace mailvault::bench {

// --name=value flags. Unknown flags are an error (a typo must not silently
// run the default configuration).
class Flags {
 public:
  Flags(int argc, char** argv);
  int64_t Int(const std::string& name, int64_t def);
  std::string Str(const std::string& name, const std::string& def);
  // Exits with a message if a flag was given that no Int/Str call asked for.
  void CheckAllUsed() const;
  // The command line as typed, for the report.
  const std::string& command_line() const { return command_line_; }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
  std::string command_line_;
};

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double Median(std::vector<double> v);
// Nearest-rank percentile, p in [0, 100].
double Percentile(std::vector<double> v, double p);

// Stops the program with a message if `s` is not OK (a benchmark that
// cannot do its work has nothing to report).
void Check(const Status& s, std::string_view what);
template <typename T>
T CheckResult(Result<T> r, std::string_view what) {
  Check(r.status(), what);
  return std::move(r).value();
}

// A fresh directory under the scratch root, removed with its contents on
// destruction. The root is $MV_BENCH_TMP, else $TMPDIR, else /tmp; run.sh
// points it at the build dir so data sits on the repository's file system.
class TempDir {
 public:
  explicit TempDir(std::string_view tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A markdown table, printed with aligned pipes.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string Fmt(double v, int decimals);
std::string Pct(double ratio);  // 0.734 -> "73 %"

// A realistic message of exactly `size` bytes (size >= 2 KB): Received
// trail, From/To/Subject/Date/Message-ID, a short text part and a base64
// attachment filling the rest. Distinct per `n`: the body bytes come from a
// PRNG seeded with n, so no two messages compress or dedupe alike.
std::string MakeMessage(uint64_t n, size_t size);

// Env that forwards everything to `base` and counts Sync() calls on files
// whose path contains "/segments/" (the store's segment files): puts / syncs
// is the store's average group-commit batch size. Thread-safe.
class CountingEnv final : public Env {
 public:
  explicit CountingEnv(Env* base) : base_(base) {}
  uint64_t segment_syncs() const { return segment_syncs_.load(); }

  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  Result<std::unique_ptr<TempFile>> NewTempFile(const std::string& d) override {
    return base_->NewTempFile(d);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    return base_->OpenRandomAccess(path);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view contents) override {
    return base_->WriteFileAtomic(path, contents);
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status Remove(const std::string& path) override { return base_->Remove(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_->Truncate(path, size);
  }
  Status PunchHole(const std::string& path, uint64_t offset, uint64_t len) override {
    return base_->PunchHole(path, offset, len);
  }
  Result<uint64_t> FreeSpace(const std::string& path) override { return base_->FreeSpace(path); }
  Result<uint64_t> AllocatedSize(const std::string& path) override {
    return base_->AllocatedSize(path);
  }
  Result<std::unique_ptr<FileLock>> TryLock(const std::string& path) override {
    return base_->TryLock(path);
  }
  int64_t NowMicros() override { return base_->NowMicros(); }
  std::string HostName() override { return base_->HostName(); }

 private:
  Env* base_;
  std::atomic<uint64_t> segment_syncs_{0};
};

}  // namespace mailvault::bench
