// libFuzzer target for mime::ExtractMetadata: any bytes must parse without
// crashing, hanging or leaking, and every returned string must be valid UTF-8
// without control characters, within its length bound. Seeds:
// tests/fuzz/corpus/metadata/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mime/metadata.h"
#include "mime/text.h"

namespace {

void Check(std::string_view s, size_t max_bytes) {
  if (!mailvault::mime::IsValidUtf8(s) || s.size() > max_bytes) std::abort();
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  mailvault::mime::MessageHeaders h = mailvault::mime::ExtractMetadata(raw);
  Check(h.from, 4096);
  Check(h.subject, 4096);
  Check(h.to, 65536);
  Check(h.cc, 65536);
  Check(h.message_id, 1024);
  if (h.to_addresses.size() > 1000 || h.attachments.size() > 1000) std::abort();
  for (const auto& a : h.to_addresses) Check(a, 512);
  for (const auto& a : h.attachments) {
    Check(a.name, 1024);
    Check(a.type, 255);
    if (a.size > size) std::abort();  // decoding never grows content
  }
  std::string bcc = mailvault::mime::BccFromEnvelope({h.from, "<x@example.com>"}, h.to_addresses);
  Check(bcc, 65536);
  return 0;
}
