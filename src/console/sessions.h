// Server-side console sessions. A session is created at login and named by
// a 128-bit random token that the browser holds in an HttpOnly,
// SameSite=Strict cookie; the table maps the token to the account, the time
// it was made and last used, and a separate CSRF token the UI sends back in
// X-CSRF-Token on every state-changing request. Sessions end at logout, after
// `idle` without a request, `absolute` after login (whatever the activity),
// when the account's password changes, or when the daemon restarts (they
// live in memory only: a restart signs everyone out, which is the safe
// side). The table is bounded: at `max_sessions` the least recently used
// session is dropped. Thread-safe (one mutex; every operation is O(log n)).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "env/env.h"

namespace mailvault::console {

struct SessionOptions {
  int64_t idle_micros = 30 * 60 * 1'000'000LL;        // 30 minutes
  int64_t absolute_micros = 12 * 3600 * 1'000'000LL;  // 12 hours
  size_t max_sessions = 10'000;
};

struct Session {
  std::string token;       // 32 hex digits (128 bits): the cookie value
  std::string csrf_token;  // 32 hex digits
  std::string account;     // lower case
  // A directory (LDAP/AD) user's DN (NormalizeDn); "" for a local account.
  // The session stays this user's: a login that names another entry
  // after a sync ends it.
  std::string directory_dn;
  int64_t created_at = 0;  // micros since the epoch
  int64_t last_used = 0;
  // When the session ends if it is used now: min(last use + idle, created
  // + absolute).
  int64_t expires_at = 0;
};

class SessionTable {
 public:
  SessionTable(Env& env, SessionOptions options) : env_(env), options_(options) {}

  // A new session for `account`, with fresh random tokens.
  Session Create(std::string_view account, std::string_view directory_dn = {});
  // The live session named `token`, its last use set to now; nullopt if
  // there is none or it expired (an expired one is removed).
  std::optional<Session> Touch(std::string_view token);
  // Ends a session; false if there was none.
  bool Remove(std::string_view token);
  // Ends every session of `account` (password change, removal); returns how
  // many.
  size_t RemoveAccount(std::string_view account);
  size_t size();
  const SessionOptions& options() const { return options_; }

 private:
  void EvictOldestLocked();
  int64_t ExpiresAt(const Session& s) const;

  Env& env_;
  const SessionOptions options_;
  std::mutex mu_;
  std::map<std::string, Session, std::less<>> by_token_;  // guarded by mu_
  // last_used -> token, for dropping the least recently used at the cap.
  std::multimap<int64_t, std::string> by_use_;  // guarded by mu_
};

// 32 lower-case hex digits from the crypto random source.
std::string RandomToken128();

}  // namespace mailvault::console
