// libFuzzer target for clamd's reply parsers (src/scan/clamd.h): any bytes,
// as an INSTREAM reply and as a VERSION reply, must parse without crashing;
// a scan verdict always carries a valid anti-virus label, an error exactly
// when it is not-scanned, and only printable text; a parsed database date
// is YYYY-MM-DD. Seeds: tests/fuzz/corpus/clamd_reply/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mailvault/copy.h"
#include "scan/clamd.h"

namespace {

void CheckPrintable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailvault;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  scan::Verdict v = scan::ParseClamdScanReply(in);
  if (v.engine != "anti-virus" || !ValidateStatus(v.engine, v.label).ok()) std::abort();
  if ((v.label == "not-scanned") == v.error.empty()) std::abort();
  CheckPrintable(v.error);
  CheckPrintable(v.detail);
  if (v.error.size() > 1024 || v.detail.size() > 1024) std::abort();
  auto sig = v.details.find("signature");
  if (sig != v.details.end() && scan::ClassifySignature(sig->second) != v.label) std::abort();

  auto version = scan::ParseClamdVersionReply(in);
  if (version.ok()) {
    const std::string& d = version->database_date;
    if (d.empty() != version->database_version.empty()) std::abort();
    if (!d.empty() && (d.size() != 10 || d[4] != '-' || d[7] != '-')) std::abort();
    CheckPrintable(version->engine);
  }
  return 0;
}
