// Query-string parsing for the console's routes (see query_params.h).
#include "console/query_params.h"

#include <algorithm>

#include "base/search_args.h"
#include "base/units.h"

namespace mailvault::console {
namespace {

std::vector<std::string> SplitComma(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<uint64_t> ParsePositive(std::string_view name, std::string_view text) {
  uint64_t n = 0;
  bool ok = !text.empty() && text.size() <= 19;
  for (char c : text) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || n == 0)
    return Status::InvalidArgument(std::string(name) + " must be a positive integer");
  return n;
}

Result<std::string> SingleParam(const Params& params, const std::string& name) {
  auto [lo, hi] = params.equal_range(name);
  if (lo == hi) return std::string();
  if (std::next(lo) != hi) return Status::InvalidArgument(name + " given more than once");
  return lo->second;
}

Status CheckKnownParams(const Params& params, const std::vector<std::string_view>& known) {
  for (const auto& [key, value] : params) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Status::InvalidArgument("unknown parameter \"" + key + "\"");
    }
  }
  return Status::Ok();
}

Result<int64_t> ParseQueryTime(std::string_view name, std::string_view text) {
  std::string t(text);
  // 2026-12-07 and 2026-12-07T08:30 (an <input type=date|datetime-local>)
  // are read as UTC.
  if (t.size() == 10) {
    t += "T00:00:00Z";
  } else if (t.size() == 16 && t[10] == 'T') {
    t += ":00Z";
  } else if (t.size() == 19 && t[10] == 'T') {
    t += "Z";
  }
  auto parsed = ParseRfc3339(t);
  if (!parsed.ok())
    return Status::InvalidArgument(std::string(name) + ": " + parsed.status().message());
  return parsed;
}

Result<std::vector<CopyId>> ParseIdList(std::string_view text, size_t max) {
  std::vector<CopyId> ids;
  for (const std::string& piece : SplitComma(text)) {
    MV_ASSIGN_OR_RETURN(uint64_t id, ParsePositive("ids", piece));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    if (ids.size() > max) {
      return Status::InvalidArgument("at most " + std::to_string(max) + " ids at once");
    }
  }
  if (ids.empty()) return Status::InvalidArgument("ids: give at least one copy id");
  return ids;
}

Result<SearchQuery> ParseCopiesQuery(const Params& params, int64_t now_micros) {
  MV_RETURN_IF_ERROR(CheckKnownParams(
      params, {"from", "to", "subject", "message_id", "rule", "period", "since", "until", "engine",
               "size_le_kb", "size_ge_kb", "limit", "before", "mailbox"}));
  SearchArgs args;
  MV_ASSIGN_OR_RETURN(args.from, SingleParam(params, "from"));
  MV_ASSIGN_OR_RETURN(args.to, SingleParam(params, "to"));
  MV_ASSIGN_OR_RETURN(args.subject, SingleParam(params, "subject"));
  MV_ASSIGN_OR_RETURN(args.message_id, SingleParam(params, "message_id"));
  MV_ASSIGN_OR_RETURN(args.rule_id, SingleParam(params, "rule"));
  MV_ASSIGN_OR_RETURN(std::string period, SingleParam(params, "period"));
  MV_ASSIGN_OR_RETURN(std::string since, SingleParam(params, "since"));
  MV_ASSIGN_OR_RETURN(std::string until, SingleParam(params, "until"));
  if (period != "custom") args.period = period;
  if (!args.period.empty() && (!since.empty() || !until.empty())) {
    return Status::InvalidArgument("give period or since/until (period=custom), not both");
  }
  // Custom times go through the store's own RFC 3339 path.
  if (!since.empty()) {
    MV_ASSIGN_OR_RETURN(int64_t t, ParseQueryTime("since", since));
    args.since = FormatRfc3339(t);
  }
  if (!until.empty()) {
    MV_ASSIGN_OR_RETURN(int64_t t, ParseQueryTime("until", until));
    args.until = FormatRfc3339(t);
  }
  for (const auto& [key, value] : params) {
    if (key != "engine") continue;
    for (std::string& e : SplitComma(value)) args.engines.push_back(std::move(e));
  }
  MV_ASSIGN_OR_RETURN(std::string le, SingleParam(params, "size_le_kb"));
  MV_ASSIGN_OR_RETURN(std::string ge, SingleParam(params, "size_ge_kb"));
  // 0 KB is a fair bound for "at least"; use a digit check of our own.
  auto kb = [](std::string_view name, const std::string& v) -> Result<uint64_t> {
    if (v == "0") return uint64_t{0};
    return ParsePositive(name, v);
  };
  if (!le.empty()) {
    MV_ASSIGN_OR_RETURN(args.size_le_kb, kb("size_le_kb", le));
  }
  if (!ge.empty()) {
    MV_ASSIGN_OR_RETURN(args.size_ge_kb, kb("size_ge_kb", ge));
  }
  MV_ASSIGN_OR_RETURN(std::string limit, SingleParam(params, "limit"));
  if (!limit.empty()) {
    MV_ASSIGN_OR_RETURN(uint64_t n, ParsePositive("limit", limit));
    if (n > kMaxPageSize) {
      return Status::InvalidArgument("limit: at most " + std::to_string(kMaxPageSize));
    }
    args.limit = n;
  }
  MV_ASSIGN_OR_RETURN(std::string before, SingleParam(params, "before"));
  if (!before.empty()) {
    MV_ASSIGN_OR_RETURN(args.after, ParsePositive("before", before));
  }
  auto q = BuildSearchQuery(args, now_micros);
  if (!q.ok()) {
    // The shared builder names command-line flags; the API names parameters.
    std::string m = q.status().message();
    for (auto [flag, param] : {std::pair<std::string, std::string>{"--from", "from"},
                               {"--to", "to"},
                               {"--subject", "subject"},
                               {"--message-id", "message_id"},
                               {"--rule", "rule"},
                               {"--period", "period"},
                               {"--since", "since"},
                               {"--until", "until"},
                               {"--after", "before"},
                               {"--size-le", "size_le_kb"},
                               {"--size-ge", "size_ge_kb"},
                               {"--engine", "engine"}}) {
      for (size_t at = m.find(flag); at != std::string::npos; at = m.find(flag, at)) {
        m.replace(at, flag.size(), param);
      }
    }
    return Status::InvalidArgument(m);
  }
  return q;
}

Result<DeliveryQuery> ParseDeliveryQuery(const Params& params) {
  MV_RETURN_IF_ERROR(CheckKnownParams(params, {"state", "copy", "request", "limit", "before"}));
  DeliveryQuery q;
  MV_ASSIGN_OR_RETURN(std::string states, SingleParam(params, "state"));
  for (const std::string& s : SplitComma(states)) {
    auto state = ParseDeliveryState(s);
    if (!state) {
      return Status::InvalidArgument("state \"" + s +
                                     "\": use queued, sending, delivered, deferred or failed");
    }
    q.states.push_back(*state);
  }
  for (const char* name : {"copy", "request", "limit", "before"}) {
    MV_ASSIGN_OR_RETURN(std::string v, SingleParam(params, name));
    if (v.empty()) continue;
    MV_ASSIGN_OR_RETURN(uint64_t n, ParsePositive(name, v));
    std::string_view key = name;
    if (key == "copy") q.copy_id = n;
    if (key == "request") q.request = n;
    if (key == "limit") q.limit = std::min<uint64_t>(n, 1000);
    if (key == "before") q.before = n;
  }
  return q;
}

}  // namespace mailvault::console
