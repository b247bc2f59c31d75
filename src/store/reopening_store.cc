#include "store/reopening_store.h"

#include <chrono>

#include "env/env.h"

namespace mailvault::store {

Result<std::unique_ptr<ReopeningStore>> ReopeningStore::Open(const StoreOptions& options,
                                                             int64_t retry_micros) {
  if (options.read_only) return Status::InvalidArgument("a ReopeningStore is for writers");
  std::unique_ptr<ReopeningStore> s(new ReopeningStore(options, retry_micros));
  MV_ASSIGN_OR_RETURN(s->inner_, Store::Open(options));
  s->last_max_size_ = s->inner_->max_size();
  s->watcher_ = std::thread([p = s.get()] { p->Watch(); });
  return s;
}

ReopeningStore::~ReopeningStore() {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void ReopeningStore::Watch() {
  std::unique_lock<std::mutex> l(stop_mu_);
  while (
      !stop_cv_.wait_for(l, std::chrono::microseconds(retry_micros_), [&] { return stopping_; })) {
    l.unlock();
    RecoverIfStopped().IgnoreError();  // the reason is reported as an event and by calls
    l.lock();
  }
}

Status ReopeningStore::RecoverIfStopped() {
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (inner_ != nullptr && inner_->Writable().ok()) return Status::Ok();
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  if (inner_ != nullptr) {
    Status why = inner_->Writable();
    if (why.ok()) return why;  // someone else reopened meanwhile
    if (options_.on_event) options_.on_event("reopen", "reopening the store: " + why.message());
    inner_.reset();  // drains the indexer and releases the lock file
  }
  auto reopened = Store::Open(options_);
  if (!reopened.ok()) {
    down_ = Status::Unavailable("the store is being recovered: " + reopened.status().message());
    if (options_.on_event) options_.on_event("reopen_failed", down_.message());
    return down_;
  }
  inner_ = std::move(reopened).value();
  last_max_size_ = inner_->max_size();
  if (options_.on_event) options_.on_event("reopened", "the store takes writes again");
  return inner_->Writable();
}

template <typename R, typename Fn>
R ReopeningStore::With(Fn&& fn) {
  std::shared_lock<std::shared_mutex> l(mu_);
  if (inner_ == nullptr) return down_;
  return fn(*inner_);
}

Result<CopyId> ReopeningStore::Put(const PutRequest& r) {
  auto id = With<Result<CopyId>>([&](Store& s) { return s.Put(r); });
  availability_.Note(id.status(),
                     (options_.env != nullptr ? *options_.env : *PosixEnv()).NowMicros());
  return id;
}
Result<CopyMeta> ReopeningStore::Get(CopyId id) {
  return With<Result<CopyMeta>>([&](Store& s) { return s.Get(id); });
}
Result<std::vector<CopyId>> ReopeningStore::PossibleDuplicates(CopyId id) {
  return With<Result<std::vector<CopyId>>>([&](Store& s) { return s.PossibleDuplicates(id); });
}
Status ReopeningStore::ReadTo(CopyId id, const std::function<Status(std::string_view)>& sink) {
  return With<Status>([&](Store& s) { return s.ReadTo(id, sink); });
}
Result<SearchPage> ReopeningStore::Search(const SearchQuery& q) {
  return With<Result<SearchPage>>([&](Store& s) { return s.Search(q); });
}
Status ReopeningStore::Delete(const std::vector<CopyId>& ids) {
  return With<Status>([&](Store& s) { return s.Delete(ids); });
}
Status ReopeningStore::Writable() {
  return With<Status>([&](Store& s) { return s.Writable(); });
}
Result<StoreStats> ReopeningStore::Stats() {
  return With<Result<StoreStats>>([&](Store& s) { return s.Stats(); });
}
Result<VerifyReport> ReopeningStore::Verify() {
  return With<Result<VerifyReport>>([&](Store& s) { return s.Verify(); });
}
Status ReopeningStore::RebuildIndex() {
  return With<Status>([&](Store& s) { return s.RebuildIndex(); });
}
Result<LossReport> ReopeningStore::AcceptLoss() {
  return With<Result<LossReport>>([&](Store& s) { return s.AcceptLoss(); });
}
uint64_t ReopeningStore::max_size() {
  std::shared_lock<std::shared_mutex> l(mu_);
  return inner_ != nullptr ? inner_->max_size() : last_max_size_;
}
Status ReopeningStore::SetMaxSize(uint64_t bytes) {
  std::unique_lock<std::shared_mutex> l(mu_);  // exclusive: it writes last_max_size_
  if (inner_ == nullptr) return down_;
  MV_RETURN_IF_ERROR(inner_->SetMaxSize(bytes));
  last_max_size_ = bytes;
  return Status::Ok();
}
Result<Store::KeyInfo> ReopeningStore::AddKey() {
  return With<Result<KeyInfo>>([&](Store& s) { return s.AddKey(); });
}
std::vector<Store::KeyInfo> ReopeningStore::Keys() {
  std::shared_lock<std::shared_mutex> l(mu_);
  return inner_ != nullptr ? inner_->Keys() : std::vector<KeyInfo>{};
}

}  // namespace mailvault::store
