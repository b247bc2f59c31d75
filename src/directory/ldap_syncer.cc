#include "directory/ldap_syncer.h"

#include <chrono>

namespace mailvault::directory {

LdapSyncer::LdapSyncer(LdapDirectory& directory, int64_t interval_micros, OnResult on_result)
    : directory_(directory), interval_micros_(interval_micros), on_result_(std::move(on_result)) {}

std::unique_ptr<LdapSyncer> LdapSyncer::Start(LdapDirectory& directory, int64_t interval_micros,
                                              OnResult on_result) {
  std::unique_ptr<LdapSyncer> s(new LdapSyncer(directory, interval_micros, std::move(on_result)));
  s->thread_ = std::thread([p = s.get()] { p->Run(); });
  return s;
}

LdapSyncer::~LdapSyncer() { Stop(); }

void LdapSyncer::SyncNow() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

int64_t LdapSyncer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

void LdapSyncer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LdapSyncer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (!requested_) {
      cv_.wait_for(lock, std::chrono::microseconds(interval_micros_),
                   [this] { return stop_ || requested_; });
      if (stop_) break;
    }
    requested_ = false;
    lock.unlock();
    auto result = directory_.Sync();
    if (on_result_) on_result_(result);
    lock.lock();
    ++completed_;
  }
}

}  // namespace mailvault::directory
