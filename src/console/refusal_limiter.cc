// Bounding the audit records of unauthenticated refusals (see
// refusal_limiter.h).
#include "console/refusal_limiter.h"

#include <algorithm>
#include <climits>

namespace mailvault::console {

std::string RefusalLimiter::Summary::Describe() const {
  std::string out = std::to_string(count) + " further refusal" + (count == 1 ? "" : "s") +
                    " of unauthenticated requests from " +
                    (address.empty() ? std::string("many addresses") : address) +
                    " not recorded one by one (";
  bool first = true;
  for (const auto& [action, n] : actions) {
    if (!first) out += ", ";
    first = false;
    out += action + ": " + std::to_string(n);
  }
  return out + ")";
}

void RefusalLimiter::CountCut(Summary& s, std::string_view action, int64_t now) {
  if (s.count == 0) s.first_micros = now;
  s.last_micros = std::max(s.last_micros, now);
  ++s.count;
  // Actions are the console's own names, a handful; bound them anyway.
  auto it = s.actions.find(std::string(action));
  if (it != s.actions.end()) {
    ++it->second;
  } else if (s.actions.size() < 16) {
    s.actions.emplace(std::string(action), 1);
  } else {
    ++s.actions["other"];
  }
}

static void Merge(RefusalLimiter::Summary& into, const RefusalLimiter::Summary& from) {
  if (from.count == 0) return;
  into.first_micros =
      into.count == 0 ? from.first_micros : std::min(into.first_micros, from.first_micros);
  into.last_micros = std::max(into.last_micros, from.last_micros);
  into.count += from.count;
  for (const auto& [action, n] : from.actions) into.actions[action] += n;
}

void RefusalLimiter::RollLocked(int64_t now) {
  if (window_start_ == 0 || now - window_start_ < options_.window_micros) return;
  std::vector<Summary> cut;
  for (auto& [address, entry] : entries_) {
    if (entry.cut.count == 0) continue;
    entry.cut.address = address;
    cut.push_back(std::move(entry.cut));
  }
  // The heaviest senders by name; everyone else in one line.
  std::sort(cut.begin(), cut.end(),
            [](const Summary& a, const Summary& b) { return a.count > b.count; });
  Summary many = std::move(untracked_);
  many.address.clear();
  for (size_t i = options_.max_summaries; i < cut.size(); ++i) Merge(many, cut[i]);
  if (cut.size() > options_.max_summaries) cut.resize(options_.max_summaries);
  for (Summary& s : cut) ended_.push_back(std::move(s));
  if (many.count > 0) ended_.push_back(std::move(many));
  entries_.clear();
  untracked_ = Summary{};
  recorded_ = 0;
  window_start_ = 0;
}

bool RefusalLimiter::Admit(std::string_view address, std::string_view action, int64_t now,
                           bool* first_cut) {
  *first_cut = false;
  std::lock_guard lock(mu_);
  RollLocked(now);
  if (window_start_ == 0) window_start_ = now;
  auto it = entries_.find(address);
  if (it == entries_.end() && entries_.size() < options_.max_addresses) {
    it = entries_.emplace(std::string(address), Entry{}).first;
  }
  if (it == entries_.end()) {
    // Not tracked: counts only towards the total.
    if (recorded_ < options_.total) {
      ++recorded_;
      return true;
    }
    CountCut(untracked_, action, now);
    return false;
  }
  Entry& e = it->second;
  if (e.recorded < options_.per_address && recorded_ < options_.total) {
    ++e.recorded;
    ++recorded_;
    return true;
  }
  *first_cut = e.cut.count == 0;
  CountCut(e.cut, action, now);
  return false;
}

std::vector<RefusalLimiter::Summary> RefusalLimiter::TakeEnded(int64_t now) {
  std::lock_guard lock(mu_);
  RollLocked(now);
  std::vector<Summary> out;
  out.swap(ended_);
  return out;
}

}  // namespace mailvault::console
