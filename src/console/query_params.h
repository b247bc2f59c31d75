// The query strings of the console's GET routes, parsed into the queries the
// store and the delivery queue take. Empty values count as absent (the UI
// sends every filter field); unknown parameters are InvalidArgument, so a
// misspelt filter never silently widens a search. Pure functions: the
// current time is passed in.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/copy.h"
#include "mailvault/delivery.h"
#include "mailvault/status.h"

namespace mailvault::console {

// httplib::Params.
using Params = std::multimap<std::string, std::string>;

inline constexpr size_t kMaxPageSize = 200;

// GET /api/v1/copies: from, to, subject, message_id (substrings), rule
// (exact), period (hour ... year, or custom / empty with since and until),
// since, until (RFC 3339, or YYYY-MM-DD / YYYY-MM-DDTHH:MM[:SS] read as
// UTC), engine (comma list), size_le_kb, size_ge_kb, limit (1..200, default
// 50), before (the cursor of the previous page).
Result<SearchQuery> ParseCopiesQuery(const Params& params, int64_t now_micros);

// GET /api/v1/deliveries: state (comma list), copy, request, limit (1..1000),
// before.
Result<DeliveryQuery> ParseDeliveryQuery(const Params& params);

// "1,2,3" -> ids, in order, duplicates dropped; InvalidArgument for
// anything but positive integers, for none, or for more than `max`.
Result<std::vector<CopyId>> ParseIdList(std::string_view text, size_t max);

// A time in a query: RFC 3339, or a date / date and time without a zone,
// read as UTC. `name` names the parameter in the error.
Result<int64_t> ParseQueryTime(std::string_view name, std::string_view text);

// A positive integer (at most 19 digits); InvalidArgument naming it.
Result<uint64_t> ParsePositive(std::string_view name, std::string_view text);

// The single value of `name`, "" if absent; InvalidArgument if given twice.
Result<std::string> SingleParam(const Params& params, const std::string& name);

// InvalidArgument naming the first parameter not in `known`.
Status CheckKnownParams(const Params& params, const std::vector<std::string_view>& known);

}  // namespace mailvault::console
