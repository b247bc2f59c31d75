// libFuzzer target for mime::WalkParts, mime::RemoveParts and
// mime::HeaderFromAddresses: any bytes must walk and rewrite without
// crashing, hanging or leaking; part indexes grow, decoded content never
// exceeds the input or the part's stated size, a rewrite has CRLF line
// endings only and walks again. Seeds: tests/fuzz/corpus/parts/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/byte_source.h"
#include "mime/parts.h"
#include "mime/text.h"

namespace {

using mailvault::Status;
using mailvault::StringSource;
namespace mime = mailvault::mime;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Walks `raw`, checking invariants; returns the leaf indexes.
std::vector<int> Walk(std::string_view raw) {
  std::vector<int> leaves;
  int last = -1;
  mime::WalkSummary summary;
  Status s = mime::WalkParts(
      StringSource(raw),
      [&](const mime::Part& p, const mime::PartBody& body) {
        Check(p.index > last && p.depth >= 0 && p.depth <= 51);
        Check(mime::IsValidUtf8(p.filename) && mime::IsValidUtf8(p.alt_filename));
        last = p.index;
        leaves.push_back(p.index);
        uint64_t n = 0;
        Status r = body.Read([&](std::string_view piece) {
          n += piece.size();
          return Status::Ok();
        });
        Check(r.ok());
        // Sizes are measured for attachments only (an attached message has
        // no content of its own); an attachment's parts follow it.
        Check(n <= raw.size());
        if (p.attachment && !p.message) Check(n <= p.size);
        Check(p.attachment_index <= p.index);
        Check(!p.attachment || p.attachment_index == p.index);
        auto head = body.Head(16);
        Check(head.ok() && head->size() <= 16);
        return Status::Ok();
      },
      &summary);
  Check(s.ok());
  Check(summary.entities > last);
  return leaves;
}

void CheckRewrite(std::string_view raw, const std::vector<int>& parts) {
  auto rw = mime::RemoveParts(StringSource(raw), parts, "removed {filename}");
  if (!rw.ok()) return;
  const std::string& b = rw->body;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == '\n') Check(i > 0 && b[i - 1] == '\r');
  }
  std::string again;
  for (const auto& [name, value] : rw->header_changes) {
    if (!value.empty()) again += name + ": " + value + "\r\n";
  }
  again += "\r\n" + b;
  Walk(again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::vector<int> leaves = Walk(raw);
  CheckRewrite(raw, leaves);
  if (!leaves.empty()) CheckRewrite(raw, {leaves.back()});
  CheckRewrite(raw, {0});
  auto from = mime::HeaderFromAddresses(StringSource(raw));
  Check(from.ok() && from->size() <= 100);
  for (const std::string& a : *from) Check(mime::IsValidUtf8(a) && a.size() <= 512);
  return 0;
}
