// libFuzzer target for the compose functions (mime/compose.h). Any bytes
// must go through without crashing, hanging or leaking, and:
// - BodyOffset is within the input; RemoveHeaderFields never grows it,
//   returns it unchanged when it removes nothing, keeps the body and agrees
//   with BodyOffset on where the body starts;
// - ParseMailbox (on the first line) returns only a short ASCII addr-spec
//   without controls, spaces outside quotes or angle brackets, which
//   ParseMailbox accepts again unchanged;
// - BuildAsAttachment (small inputs) attaches a CRLF original byte for byte.
// Seeds: tests/fuzz/corpus/compose/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mime/compose.h"

namespace {

namespace mime = mailvault::mime;

constexpr size_t kMaxMailboxInput = 1024;
constexpr size_t kMaxBuildInput = 16 * 1024;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckHeaderEdits(std::string_view raw) {
  const size_t body = mime::BodyOffset(raw);
  Check(body <= raw.size());
  for (std::string_view name : {"Message-ID", "received", "X"}) {
    size_t removed = 0;
    std::string out = mime::RemoveHeaderFields(raw, name, &removed);
    Check(out.size() <= raw.size());
    if (removed == 0) Check(out == raw);
    // The body is untouched and still starts where BodyOffset says.
    Check(raw.substr(body) == std::string_view(out).substr(out.size() - (raw.size() - body)));
    Check(mime::BodyOffset(out) == out.size() - (raw.size() - body));
    // Nothing of that name is left to remove.
    size_t again = 1;
    Check(mime::RemoveHeaderFields(out, name, &again) == out && again == 0);
  }
}

void CheckMailbox(std::string_view raw) {
  std::string_view line = raw.substr(0, raw.find('\n'));
  if (line.size() > kMaxMailboxInput) line = line.substr(0, kMaxMailboxInput);
  mailvault::Result<std::string> addr = mime::ParseMailbox(line);
  if (!addr.ok()) {
    Check(addr.status().code() == mailvault::Code::kInvalidArgument);
    return;
  }
  Check(addr->size() <= 64 + 1 + 255 && addr->find('@') != std::string::npos);
  bool quoted = !addr->empty() && (*addr)[0] == '"';
  for (char c : *addr) {
    auto u = static_cast<unsigned char>(c);
    Check(u > 0x1F && u < 0x7F && c != '<' && c != '>');
    if (c == ' ') Check(quoted);
  }
  mailvault::Result<std::string> again = mime::ParseMailbox(*addr);
  Check(again.ok() && *again == *addr);
}

void CheckBuild(std::string_view raw) {
  if (raw.size() > kMaxBuildInput) return;
  mime::Wrapper w;
  w.from = "Gateway <postmaster@gw.example>";
  w.to = {"alice@example.com"};
  w.subject = "Held message";
  w.text = "The attached message was held.\n";
  w.id_domain = "gw.example";
  w.date = 1700000000;
  mailvault::Result<std::string> out = mime::BuildAsAttachment(w, raw);
  if (raw.empty()) {
    Check(!out.ok());
    return;
  }
  Check(out.ok());
  // A CRLF-only original (no bare LF) must appear verbatim.
  bool crlf = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) crlf = false;
  }
  if (crlf) Check(out->find(raw) != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  CheckHeaderEdits(raw);
  CheckMailbox(raw);
  CheckBuild(raw);
  return 0;
}
