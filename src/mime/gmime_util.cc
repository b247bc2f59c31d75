#include "mime/gmime_util.h"

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

}  // namespace mailvault::mime
