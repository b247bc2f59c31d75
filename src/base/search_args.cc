// Search argument translation: periods, KB sizes, time bounds, cursors.
#include "base/search_args.h"

#include <limits>

#include "base/units.h"

namespace mailvault {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1'000'000;

Result<uint64_t> KbToBytes(const char* flag, uint64_t kb) {
  if (kb > std::numeric_limits<uint64_t>::max() / 1024) {
    return Status::InvalidArgument(std::string(flag) + ": " + std::to_string(kb) +
                                   " KB is too large");
  }
  return kb * 1024;
}

Result<int64_t> ParseTimeArg(const char* flag, const std::string& text) {
  auto t = ParseRfc3339(text);
  if (!t.ok()) {
    return Status::InvalidArgument(std::string(flag) + ": " + t.status().message());
  }
  return t;
}

// A text filter must not hold a control character: C0 (NUL above all,
// which the index's C-string paths would take for the end of the filter,
// so "%00zzz" matched every copy), DEL, or C1 (U+0080..U+009F, as UTF-8).
// Invalid UTF-8 is left to the index (it matches what it matches).
Status CheckFilterText(const char* flag, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    unsigned code = 0x100;
    if (c < 0x20 || c == 0x7f) {
      code = c;
    } else if (c == 0xc2 && i + 1 < text.size()) {
      const unsigned char next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) code = next;
    }
    if (code != 0x100) {
      static const char kHex[] = "0123456789ABCDEF";
      const std::string u = {'U', '+', '0', '0', kHex[code >> 4], kHex[code & 15]};
      return Status::InvalidArgument(std::string(flag) + ": the control character " + u +
                                     " is not allowed in a search filter");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<int64_t> PeriodMicros(std::string_view period) {
  if (period == "hour") return 3600LL * 1'000'000;
  if (period == "day") return kDay;
  if (period == "week") return 7 * kDay;
  if (period == "2weeks") return 14 * kDay;
  if (period == "month") return 30 * kDay;
  if (period == "3months") return 90 * kDay;
  if (period == "year") return 365 * kDay;
  std::string valid;
  for (std::string_view p : kPeriods) valid += (valid.empty() ? "" : ", ") + std::string(p);
  return Status::InvalidArgument("bad period \"" + std::string(period) + "\": use one of " + valid);
}

Result<SearchQuery> BuildSearchQuery(const SearchArgs& args, int64_t now_micros) {
  MV_RETURN_IF_ERROR(CheckFilterText("--from", args.from));
  MV_RETURN_IF_ERROR(CheckFilterText("--to", args.to));
  MV_RETURN_IF_ERROR(CheckFilterText("--subject", args.subject));
  MV_RETURN_IF_ERROR(CheckFilterText("--message-id", args.message_id));
  MV_RETURN_IF_ERROR(CheckFilterText("--rule", args.rule_id));
  SearchQuery q;
  q.from = args.from;
  q.to = args.to;
  q.subject = args.subject;
  q.message_id = args.message_id;
  q.rule_id = args.rule_id;
  if (!args.period.empty() && !args.since.empty()) {
    return Status::InvalidArgument("give --period or --since, not both");
  }
  if (!args.period.empty()) {
    MV_ASSIGN_OR_RETURN(int64_t len, PeriodMicros(args.period));
    q.since = now_micros - len;
  }
  if (!args.since.empty()) {
    MV_ASSIGN_OR_RETURN(q.since, ParseTimeArg("--since", args.since));
  }
  if (!args.until.empty()) {
    MV_ASSIGN_OR_RETURN(q.until, ParseTimeArg("--until", args.until));
  }
  if (q.since && q.until && *q.since >= *q.until) {
    return Status::InvalidArgument("the time range is empty: since must be before until");
  }
  for (const std::string& e : args.engines) {
    auto bit = EngineBit(e);
    if (!bit.ok()) return bit.status();
    q.engines.push_back(e);
  }
  if (args.size_le_kb) {
    MV_ASSIGN_OR_RETURN(q.size_le, KbToBytes("--size-le", *args.size_le_kb));
  }
  if (args.size_ge_kb) {
    MV_ASSIGN_OR_RETURN(q.size_ge, KbToBytes("--size-ge", *args.size_ge_kb));
  }
  if (q.size_le && q.size_ge && *q.size_ge > *q.size_le) {
    return Status::InvalidArgument("--size-ge is larger than --size-le: nothing can match");
  }
  if (args.limit == 0 || args.limit > kMaxLimit) {
    return Status::InvalidArgument("--limit must be between 1 and " + std::to_string(kMaxLimit));
  }
  q.limit = args.limit;
  if (args.after) {
    if (*args.after == 0) return Status::InvalidArgument("--after: a cursor is a positive id");
    q.before = *args.after;
  }
  return q;
}

Result<std::pair<std::string, std::string>> ParseStatusArg(std::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == arg.size()) {
    return Status::InvalidArgument("--status \"" + std::string(arg) +
                                   "\": use ENGINE=LABEL, e.g. anti-virus=infected");
  }
  std::string engine(arg.substr(0, eq)), label(arg.substr(eq + 1));
  Status s = ValidateStatus(engine, label);
  if (!s.ok()) return s.Annotate("--status");
  return std::make_pair(engine, label);
}

}  // namespace mailvault
