// ParseBudget (see parse_budget.h): metadata.cc's ParseLimit, line by line.
#include "mime/parse_budget.h"

#include <algorithm>

namespace mailvault::mime {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool ContainsNoCase(std::string_view s, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (StartsWithNoCase(s.substr(i), needle)) return true;
  }
  return false;
}

}  // namespace

bool ParseBudget::Feed(std::string_view piece) {
  while (!piece.empty() && !over_) {
    size_t nl = piece.find('\n');
    size_t take = nl == std::string_view::npos ? piece.size() : nl + 1;
    // A header line longer than the header budget fails it anyway.
    size_t cap = in_header_ ? kMaxHeaderBytes + 1 : 3;
    if (line_.size() < cap) line_.append(piece.data(), std::min(take, cap - line_.size()));
    line_len_ += take;
    piece.remove_prefix(take);
    if (nl != std::string_view::npos) EndLine();
  }
  return !over_;
}

void ParseBudget::Finish() {
  if (line_len_ > 0 && !over_) EndLine();
}

void ParseBudget::EndLine() {
  if (!Line(line_, line_len_)) {
    over_ = true;
    limit_ = line_start_;
  }
  line_start_ += line_len_;
  line_.clear();
  line_len_ = 0;
}

bool ParseBudget::Line(std::string_view line, uint64_t len) {
  if (line.size() >= 2 && line[0] == '-' && line[1] == '-') {
    if (++boundary_lines_ > kMaxBoundaryLines) return false;
    in_header_ = true;
    after_boundary_ = true;
    has_type_ = names_message_ = false;
  } else if (in_header_) {
    if (line == "\n" || line == "\r\n" || line == "\r") {
      in_header_ = names_message_ || (digest_ && after_boundary_ && !has_type_);
      after_boundary_ = has_type_ = names_message_ = false;
    } else {
      if (++header_lines_ > kMaxHeaderLines) return false;
      header_bytes_ += len;
      if (header_bytes_ > kMaxHeaderBytes) return false;
      size_t ws = line.find_first_not_of(" \t");
      if (ws != std::string_view::npos && StartsWithNoCase(line.substr(ws), "content-type")) {
        if (++type_lines_ > kMaxTypeLines) return false;
        has_type_ = true;
      }
      // Any line: the type may be folded onto a continuation line.
      if (!names_message_ && ContainsNoCase(line, "message/")) names_message_ = true;
      if (!digest_ && ContainsNoCase(line, "digest")) digest_ = true;
    }
  }
  return true;
}

}  // namespace mailvault::mime
