// libFuzzer target for the ingest API's meta part (console/meta.h). Any
// bytes must go through ParseMeta without crashing, hanging or leaking, and
// what it accepts is what intake could have made:
// - mail_from is "" or, like every rcpt, an address ParseMailbox returns
//   unchanged (so no CR/LF, controls, spaces, brackets or display name);
// - at most kMaxMetaRcpt recipients;
// - rule_id and queue_id are empty or 1..64 of [A-Za-z0-9._-];
// - reason is at most kMaxMetaReason bytes without C0 controls or DEL;
// - received_at is 0 (now) or within [kMinReceivedAt, now + kMaxMetaFuture].
// Built by tests/fuzz/CMakeLists.txt; seeds: tests/fuzz/corpus/meta/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "console/meta.h"
#include "mime/compose.h"

namespace {

namespace console = mailvault::console;

constexpr int64_t kNow = 1'800'000'000'000'000;  // 2027-01-15

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsToken(const std::string& v) {
  if (v.empty()) return true;
  if (v.size() > 64) return false;
  for (char c : v) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsEnvelopeAddress(const std::string& v) {
  auto parsed = mailvault::mime::ParseMailbox(v);
  return parsed.ok() && *parsed == v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mailvault::PutRequest req;
  if (!console::ParseMeta(text, kNow, &req).ok()) return 0;
  Check(req.mail_from.empty() || IsEnvelopeAddress(req.mail_from));
  Check(req.rcpt.size() <= console::kMaxMetaRcpt);
  for (const std::string& r : req.rcpt) Check(IsEnvelopeAddress(r));
  Check(IsToken(req.rule_id));
  Check(IsToken(req.queue_id));
  Check(req.reason.size() <= console::kMaxMetaReason);
  for (char c : req.reason) {
    const auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f);
  }
  Check(req.received_at == 0 || (req.received_at >= console::kMinReceivedAt &&
                                 req.received_at <= kNow + console::kMaxMetaFuture));
  return 0;
}
