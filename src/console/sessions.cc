// The session table (see sessions.h).
#include "console/sessions.h"

#include "crypto/page_cipher.h"

namespace mailvault::console {

std::string RandomToken128() {
  unsigned char bytes[16];
  crypto::RandomBytes(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

int64_t SessionTable::ExpiresAt(const Session& s) const {
  return std::min(s.last_used + options_.idle_micros, s.created_at + options_.absolute_micros);
}

namespace {

void EraseUse(std::multimap<int64_t, std::string>* by_use, int64_t at, const std::string& token) {
  auto [lo, hi] = by_use->equal_range(at);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == token) {
      by_use->erase(it);
      return;
    }
  }
}

}  // namespace

void SessionTable::EvictOldestLocked() {
  if (by_use_.empty()) return;
  auto oldest = by_use_.begin();
  by_token_.erase(oldest->second);
  by_use_.erase(oldest);
}

Session SessionTable::Create(std::string_view account, std::string_view directory_dn) {
  Session s;
  s.token = RandomToken128();
  s.csrf_token = RandomToken128();
  s.account = std::string(account);
  s.directory_dn = std::string(directory_dn);
  s.created_at = s.last_used = env_.NowMicros();
  s.expires_at = ExpiresAt(s);
  std::lock_guard<std::mutex> lock(mu_);
  while (by_token_.size() >= options_.max_sessions && !by_token_.empty()) EvictOldestLocked();
  by_use_.emplace(s.last_used, s.token);
  by_token_.emplace(s.token, s);
  return s;
}

std::optional<Session> SessionTable::Touch(std::string_view token) {
  const int64_t now = env_.NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_token_.find(token);
  if (it == by_token_.end()) return std::nullopt;
  Session& s = it->second;
  EraseUse(&by_use_, s.last_used, s.token);
  if (now >= ExpiresAt(s)) {
    by_token_.erase(it);
    return std::nullopt;
  }
  s.last_used = now;
  s.expires_at = ExpiresAt(s);
  by_use_.emplace(s.last_used, s.token);
  return s;
}

bool SessionTable::Remove(std::string_view token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_token_.find(token);
  if (it == by_token_.end()) return false;
  EraseUse(&by_use_, it->second.last_used, it->second.token);
  by_token_.erase(it);
  return true;
}

size_t SessionTable::RemoveAccount(std::string_view account) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto it = by_token_.begin(); it != by_token_.end();) {
    if (it->second.account == account) {
      EraseUse(&by_use_, it->second.last_used, it->second.token);
      it = by_token_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

size_t SessionTable::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return by_token_.size();
}

}  // namespace mailvault::console
