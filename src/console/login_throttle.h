// Login throttling: slows a password guesser without locking the real user
// out. Failures are counted per (account name, client address) and per
// client address. The first `free_failures` of a pair cost nothing; after
// that each further attempt from that address for that name must wait
// base_delay · 2^(failures − free_failures), capped at max_delay. The same
// for an address across all names (a sprayer trying many names) with its
// own, larger allowance. A guesser elsewhere never delays the real user at
// her own address, and nothing is ever locked for good: counts are
// forgotten `forget_after` after the last failure, and a successful login
// clears its pair. Unknown names are counted exactly like known ones, so
// the throttle tells nothing about which names exist.
// Memory is bounded (max_entries; the stalest entries go first).
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "env/env.h"

namespace mailvault::console {

struct ThrottleOptions {
  int free_failures = 5;           // per (name, address)
  int free_failures_address = 30;  // per address, all names
  int64_t base_delay_micros = 1'000'000;
  int64_t max_delay_micros = 15 * 60 * 1'000'000LL;
  int64_t forget_after_micros = 3600 * 1'000'000LL;
  size_t max_entries = 100'000;
};

class LoginThrottle {
 public:
  LoginThrottle(Env& env, ThrottleOptions options) : env_(env), options_(options) {}

  // 0 if an attempt for `name` from `address` may go ahead now; otherwise
  // the microseconds until it may.
  int64_t WaitMicros(std::string_view name, std::string_view address);
  void Failed(std::string_view name, std::string_view address);
  void Succeeded(std::string_view name, std::string_view address);

 private:
  struct Entry {
    int failures = 0;
    int64_t last_failure = 0;
  };
  int64_t WaitFor(const std::string& key, int free, int64_t now);
  void Count(const std::string& key, int64_t now);
  void TrimLocked(int64_t now);

  Env& env_;
  const ThrottleOptions options_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;  // guarded by mu_
};

}  // namespace mailvault::console
