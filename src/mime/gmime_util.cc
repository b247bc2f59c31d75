#include "mime/gmime_util.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "mime/parse_budget.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr size_t kMaxAddress = 512;

uint64_t Base64DecodedSize(GMimeStream* encoded) {
  // Every 4 alphabet characters give 3 bytes; the decoder skips everything
  // else (line breaks, padding, junk) exactly as this count does.
  static const auto kAlphabet = [] {
    std::array<bool, 256> t{};
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
    t['+'] = t['/'] = true;
    return t;
  }();
  if (g_mime_stream_reset(encoded) != 0) return 0;
  char buf[16384];
  uint64_t chars = 0;
  for (;;) {
    ssize_t n = g_mime_stream_read(encoded, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) chars += kAlphabet[static_cast<unsigned char>(buf[i])];
  }
  g_mime_stream_reset(encoded);
  return chars * 6 / 8;
}

void Collect(InternetAddressList* list, int depth, size_t max_addresses,
             std::vector<std::string>* out, std::unordered_set<std::string>* seen) {
  if (list == nullptr || depth > 2) return;  // groups do not nest; 2 is generous
  int n = internet_address_list_length(list);
  for (int i = 0; i < n && out->size() < max_addresses; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      auto* mb = INTERNET_ADDRESS_MAILBOX(ia);
      std::string addr =
          CleanText(AsciiLower(View(internet_address_mailbox_get_addr(mb))), kMaxAddress);
      if (!addr.empty() && seen->insert(addr).second) out->push_back(std::move(addr));
    } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      Collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), depth + 1,
              max_addresses, out, seen);
    }
  }
}

}  // namespace

GMimeParserOptions* ParserOptions() {
  static std::once_flag once;
  static GMimeParserOptions* options = nullptr;
  std::call_once(once, [] {
    g_mime_init();
    options = g_mime_parser_options_new();
    const char* charsets[] = {"UTF-8", "ISO-8859-1", nullptr};
    g_mime_parser_options_set_fallback_charsets(options, charsets);
    g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  });
  return options;
}

uint64_t DecodedSize(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return 0;
  if (g_mime_data_wrapper_get_encoding(content) == GMIME_CONTENT_ENCODING_BASE64) {
    if (GMimeStream* encoded = g_mime_data_wrapper_get_stream(content)) {
      return Base64DecodedSize(encoded);
    }
  }
  GRef<GMimeStream> sink(g_mime_stream_null_new());
  g_mime_data_wrapper_write_to_stream(content, sink.get());  // flushes its decoder
  return GMIME_STREAM_NULL(sink.get())->written;
}

void CollectAddresses(InternetAddressList* list, size_t max_addresses,
                      std::vector<std::string>* out, std::unordered_set<std::string>* seen) {
  Collect(list, 0, max_addresses, out, seen);
}

uint64_t BudgetLimit(const ByteSource& raw, Status* read_error) {
  ParseBudget budget;
  bool open = true;
  // A sink error only stops the read once the budget is spent.
  Status s = ForEachChunk(raw, 64 * 1024, [&](std::string_view piece) {
    open = budget.Feed(piece);
    return open ? Status::Ok() : Status::Unavailable("budget spent");
  });
  *read_error = open ? s : Status::Ok();
  budget.Finish();
  return budget.limit();
}

// Checks that quotes, comments and angle brackets are closed and do not
// nest where they cannot; the reason if not. Besides better messages, this
// keeps junk from GMime's address parser, which leaks on some of it
// (3.2.13: "a@[1] (" with the unclosed comment).
const char* ScanDelimiters(std::string_view text, AngleBrackets* brackets) {
  // GMime keeps header values as C strings: a NUL ends the text it parses,
  // so "a@[1] (x\0)" is an unclosed comment to it (and leaks the same way).
  text = text.substr(0, text.find('\0'));
  // A domain literal ("[192.0.2.1]") is opaque to GMime: a '"' or '('
  // inside it does not count, so "a@[1 \"x] (" is an unclosed comment to
  // GMime (and leaks) even though its quotes pair up.
  bool quoted = false, escaped = false, in_angle = false, literal = false;
  int comment = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (escaped) {
      escaped = false;
    } else if ((quoted || comment > 0) && c == '\\') {
      escaped = true;
    } else if (quoted) {
      quoted = c != '"';
    } else if (literal) {
      literal = c != ']';
    } else if (c == '(') {
      ++comment;
    } else if (c == ')') {
      if (--comment < 0) return "unbalanced '(' ')'";
    } else if (comment > 0) {
      // inside a comment
    } else if (c == '[') {
      literal = true;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      if (in_angle) return "unbalanced '<' '>'";
      in_angle = true;
      if (brackets->pairs == 0) brackets->open = i;
    } else if (c == '>') {
      if (!in_angle) return "unbalanced '<' '>'";
      in_angle = false;
      if (brackets->pairs++ == 0) brackets->close = i;
    }
  }
  if (quoted || escaped) return "unterminated quoted string";
  if (comment > 0) return "unbalanced '(' ')'";
  if (in_angle) return "unbalanced '<' '>'";
  if (literal) return "unbalanced '[' ']'";
  return nullptr;
}

namespace {

bool IsAddressHeader(std::string_view lower_name) {
  static constexpr std::string_view kNames[] = {"from", "to", "cc", "bcc", "sender", "reply-to"};
  if (lower_name.starts_with("resent-")) lower_name.remove_prefix(7);
  for (std::string_view n : kNames) {
    if (lower_name == n) return true;
  }
  return false;
}

// A field longer than this is not buffered whole: its delimiters are blanked
// unchecked (no real address header is that long).
constexpr size_t kMaxField = 64 * 1024;

}  // namespace

void AddressHeaderScan::CloseField() {
  AngleBrackets brackets;
  if (in_field_ && (too_long_ || ScanDelimiters(value_, &brackets) != nullptr)) {
    patches_.insert(patches_.end(), delimiters_.begin(), delimiters_.end());
  }
  in_field_ = false;
  value_.clear();
  delimiters_.clear();
  too_long_ = false;
}

void AddressHeaderScan::Feed(std::string_view chunk) {
  // Line by line: at each line start, a header name of the list followed by
  // ':' opens a field; continuation lines (starting with SP or HT) extend it;
  // any other line closes it and, if its value is unbalanced, its delimiter
  // positions become patches.
  for (size_t i = 0; i < chunk.size(); ++i) {
    const char ch = chunk[i];
    const uint64_t at = offset_ + i;
    if (line_start_) {
      line_start_ = false;
      if (in_field_ && continuation_ && (ch == ' ' || ch == '\t')) {
        // the field goes on
      } else {
        CloseField();
        naming_ = true;
        name_len_ = 0;
      }
    }
    if (ch == '\n') {
      line_start_ = true;
      continuation_ = in_field_;
      naming_ = false;
      if (in_field_ && !too_long_) value_ += ch;
      continue;
    }
    if (in_field_) {
      if (ch == '(' || ch == ')' || ch == '<' || ch == '>' || ch == '"' || ch == '\\') {
        delimiters_.push_back(at);
      }
      if (!too_long_) {
        value_ += ch;
        if (value_.size() > kMaxField) too_long_ = true;
      }
      continue;
    }
    if (!naming_) {
      // Nothing to look at before the next line: skip to it.
      size_t nl = chunk.find('\n', i + 1);
      if (nl == std::string_view::npos) break;
      i = nl - 1;
      continue;
    }
    if (ch == ':') {
      naming_ = false;
      if (IsAddressHeader(std::string_view(name_, name_len_))) in_field_ = true;
    } else if (ch != ' ' && ch != '\t') {
      // Blanks are skipped (as they always were here); anything that cannot
      // continue one of the names (a letter or '-', starting as one of them
      // does, at most kMaxName) ends the look at this line, so a body line
      // costs a character or two and a memchr.
      const char lower = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
      const bool letter = (lower >= 'a' && lower <= 'z') || lower == '-';
      if (!letter || name_len_ == kMaxName ||
          (name_len_ == 0 && std::string_view("ftcbsr").find(lower) == std::string_view::npos)) {
        naming_ = false;
      } else {
        name_[name_len_++] = lower;
      }
    }
  }
  offset_ += chunk.size();
}

std::vector<uint64_t> AddressHeaderScan::Finish() {
  CloseField();
  std::sort(patches_.begin(), patches_.end());
  return std::move(patches_);
}

AddressHeaderGuard::AddressHeaderGuard(const ByteSource& raw, uint64_t limit) : raw_(raw) {
  AddressHeaderScan scan;
  const uint64_t end = std::min(limit, raw.size());
  std::string chunk;
  for (uint64_t offset = 0; offset < end;) {
    chunk.clear();
    if (!raw.ReadAt(offset, static_cast<size_t>(std::min<uint64_t>(end - offset, 65536)), &chunk)
             .ok() ||
        chunk.empty()) {
      break;
    }
    scan.Feed(chunk);
    offset += chunk.size();
  }
  patches_ = scan.Finish();
}

Status AddressHeaderGuard::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  const size_t before = out->size();
  MV_RETURN_IF_ERROR(raw_.ReadAt(offset, n, out));
  const uint64_t got_end = offset + (out->size() - before);
  for (auto it = std::lower_bound(patches_.begin(), patches_.end(), offset);
       it != patches_.end() && *it < got_end; ++it) {
    (*out)[before + (*it - offset)] = ' ';
  }
  return Status::Ok();
}

}  // namespace mailvault::mime
