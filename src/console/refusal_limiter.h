// RefusalLimiter: keeps a flood of unauthenticated requests from flooding
// the audit log. Every refusal of a request that carries no valid
// credentials (401, a 421 for a foreign Host, a refused or throttled
// sign-in) is worth a record, but each is a durable, fsynced record, and
// the log rotates at a cap: a script sending thousands of them a minute
// would push the real records out and cost an fsync each.
//
// So within a window (one minute by default) the first `per_address`
// refusals from one address, and the first `total` from all addresses
// together, are recorded one by one. Beyond that they are counted, and
// when the window has ended, one summary per address that was cut (at most
// `max_summaries`, the rest folded into one summary for "many addresses")
// says how many refusals of which actions were not recorded one by one,
// and between which times. Refusals of authenticated requests (a 403 for
// a missing permission, a CSRF failure) are always recorded: they name an
// account and are not counted here.
//
// The clock is passed in, so the owner decides when a window has ended:
// the console asks at every audited request and at shutdown. Memory is
// bounded: at most `max_addresses` addresses are tracked per window;
// others count only towards the total. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mailvault::console {

struct RefusalLimitOptions {
  int64_t window_micros = 60 * 1'000'000LL;
  int per_address = 20;  // records one by one per address and window
  int total = 200;       // records one by one per window, all addresses
  size_t max_summaries = 20;
  size_t max_addresses = 10'000;
};

class RefusalLimiter {
 public:
  explicit RefusalLimiter(RefusalLimitOptions options) : options_(options) {}

  // What was not recorded one by one during a window that has ended.
  struct Summary {
    std::string address;  // "" = many addresses (the rest, folded)
    int64_t first_micros = 0;
    int64_t last_micros = 0;
    uint64_t count = 0;
    std::map<std::string, uint64_t> actions;  // action -> count
    std::string Describe() const;
  };

  // True if this refusal (`action` from `address` at `now`) gets a record
  // of its own; false if it was counted towards a summary instead.
  // `first_cut` is set when this is the first refusal cut for the address
  // in this window (for one log line, not one per request).
  bool Admit(std::string_view address, std::string_view action, int64_t now, bool* first_cut);

  // The summaries of the window if it has ended by `now` (or at once, with
  // `now` = INT64_MAX at shutdown); a new window starts. Empty if nothing
  // was cut.
  std::vector<Summary> TakeEnded(int64_t now);

 private:
  struct Entry {
    int recorded = 0;
    Summary cut;
  };
  static void CountCut(Summary& s, std::string_view action, int64_t now);
  // If the window has ended by `now`, its summaries go to ended_ and no
  // window is open until the next Admit.
  void RollLocked(int64_t now);

  const RefusalLimitOptions options_;
  std::mutex mu_;
  int64_t window_start_ = 0;                           // guarded by mu_; 0 = no window
  int recorded_ = 0;                                   // guarded by mu_
  std::map<std::string, Entry, std::less<>> entries_;  // guarded by mu_
  Summary untracked_;                                  // guarded by mu_: cut, not in entries_
  std::vector<Summary> ended_;                         // guarded by mu_: not yet taken
};

}  // namespace mailvault::console
