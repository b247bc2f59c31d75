// Translation of search arguments (the CLI's `mailvault search` options and
// the console's /api/v1/copies query) into a SearchQuery, and of the other
// small argument forms the commands take (ENGINE=LABEL). Pure functions: the
// current time is passed in, so tests need no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault {

// The --period values, in the order help lists them.
inline constexpr std::string_view kPeriods[] = {"hour",  "day",     "week", "2weeks",
                                                "month", "3months", "year"};

// Length of a period in microseconds (month = 30 days, 3months = 90 days,
// year = 365 days); InvalidArgument listing the valid names otherwise.
Result<int64_t> PeriodMicros(std::string_view period);

// `mailvault search` arguments as given on the command line.
struct SearchArgs {
  std::string from, to, subject, message_id, rule_id;
  std::string period;        // "" = none
  std::string since, until;  // RFC 3339, "" = none
  std::vector<std::string> engines;
  std::optional<uint64_t> size_le_kb, size_ge_kb;  // 1 KB = 1024 bytes
  size_t limit = 50;
  std::optional<uint64_t> after;  // cursor from a previous page
};

inline constexpr size_t kMaxLimit = 10000;

// InvalidArgument with a message naming the bad argument; among them a
// control character (C0 including NUL, DEL, C1) in a text filter.
Result<SearchQuery> BuildSearchQuery(const SearchArgs& args, int64_t now_micros);

// "anti-virus=infected" -> {"anti-virus", "infected"}, validated with
// ValidateStatus.
Result<std::pair<std::string, std::string>> ParseStatusArg(std::string_view arg);

}  // namespace mailvault
