// Login throttling (see login_throttle.h).
#include "console/login_throttle.h"

#include <algorithm>

namespace mailvault::console {
namespace {

// Keys of the two kinds of entry; '\n' cannot occur in a name or address.
std::string PairKey(std::string_view name, std::string_view address) {
  std::string key = "p\n";
  for (char c : name) key += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  key += '\n';
  key += address;
  return key;
}

std::string AddressKey(std::string_view address) { return "a\n" + std::string(address); }

}  // namespace

int64_t LoginThrottle::WaitFor(const std::string& key, int free, int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  const Entry& e = it->second;
  if (now - e.last_failure >= options_.forget_after_micros) return 0;
  const int over = e.failures - free;
  if (over < 0) return 0;
  int64_t delay = options_.base_delay_micros;
  for (int i = 0; i < over && delay < options_.max_delay_micros; ++i) delay *= 2;
  delay = std::min(delay, options_.max_delay_micros);
  return std::max<int64_t>(0, e.last_failure + delay - now);
}

int64_t LoginThrottle::WaitMicros(std::string_view name, std::string_view address) {
  const int64_t now = env_.NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  return std::max(WaitFor(PairKey(name, address), options_.free_failures, now),
                  WaitFor(AddressKey(address), options_.free_failures_address, now));
}

void LoginThrottle::Count(const std::string& key, int64_t now) {
  Entry& e = entries_[key];
  if (e.failures > 0 && now - e.last_failure >= options_.forget_after_micros) e.failures = 0;
  if (e.failures < 1'000'000) ++e.failures;
  e.last_failure = now;
}

void LoginThrottle::TrimLocked(int64_t now) {
  if (entries_.size() <= options_.max_entries) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.last_failure >= options_.forget_after_micros) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  // Still over: drop the stalest until there is room (rare; only under a
  // flood from very many addresses).
  while (entries_.size() > options_.max_entries) {
    auto stalest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.last_failure < b.second.last_failure;
    });
    entries_.erase(stalest);
  }
}

void LoginThrottle::Failed(std::string_view name, std::string_view address) {
  const int64_t now = env_.NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  Count(PairKey(name, address), now);
  Count(AddressKey(address), now);
  TrimLocked(now);
}

void LoginThrottle::Succeeded(std::string_view name, std::string_view address) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(PairKey(name, address));
}

}  // namespace mailvault::console
