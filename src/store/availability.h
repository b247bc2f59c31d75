// AvailabilityTracker: remembers since when Puts are refused for want of
// the store (full disk, I/O error, a stopped store), for health and the
// console. Thread-safe.
#pragma once

#include <mutex>

#include "mailvault/store.h"

namespace mailvault::store {

class AvailabilityTracker {
 public:
  // Notes the outcome of a Put at `now`. A refusal of the request itself
  // (InvalidArgument) says nothing about the store and is ignored.
  void Note(const Status& put, int64_t now) {
    if (put.code() == Code::kInvalidArgument) return;
    std::lock_guard<std::mutex> l(mu_);
    if (put.ok()) {
      state_ = Availability{};
      return;
    }
    if (state_.unavailable_since == 0) state_.unavailable_since = now;
    state_.reason = put.ToString();
    ++state_.refused;
  }
  Availability Get() const {
    std::lock_guard<std::mutex> l(mu_);
    return state_;
  }

 private:
  mutable std::mutex mu_;
  Availability state_;  // guarded by mu_
};

}  // namespace mailvault::store
