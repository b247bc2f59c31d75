// libFuzzer target for the rspamd reply mapping (src/scan/rspamd.h): any
// bytes as a /checkv2 reply body must give exactly three verdicts, in order,
// with valid labels and an error exactly when not-scanned; no exception may
// escape. Seeds: tests/fuzz/corpus/rspamd_reply/.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/copy.h"
#include "scan/rspamd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailvault;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> kHosts = {"evil.com", "example.net"};
  std::vector<scan::Verdict> v = scan::MapRspamdReply(in, kHosts);
  static const char* kEngines[] = {"anti-spam", "anti-phishing", "sender-auth"};
  if (v.size() != 3) std::abort();
  for (size_t i = 0; i < 3; ++i) {
    if (v[i].engine != kEngines[i]) std::abort();
    if (!v[i].label.empty() && !ValidateStatus(v[i].engine, v[i].label).ok()) std::abort();
    if ((v[i].label == "not-scanned") == v[i].error.empty()) std::abort();
  }
  if (scan::HostListed(in, kHosts)) {  // then it ends with a listed name
    std::string host(in);
    for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!host.empty() && host.back() == '.') host.pop_back();
    if (!host.ends_with(kHosts[0]) && !host.ends_with(kHosts[1])) std::abort();
  }
  return 0;
}
