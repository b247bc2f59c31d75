// libFuzzer target for the path a message's envelope and metadata take from
// the wire to every encoder: any bytes in MAIL FROM, RCPT TO, the rule id,
// the reason, an external label or a file name, plus headers parsed from the
// rest of the input, must
//   - come back byte for byte from the record codec (store/meta_codec.h) and
//     from the index's row columns (store/index/row_codec.h),
//   - give valid UTF-8 JSON for the API and the CLI (base/json_text.h),
// and no decoder may crash on the raw input. An envelope byte such as 0xFC
// once made the JSON encoder throw and took mailvaultd down.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>

#include "base/json_text.h"
#include "base/utf8.h"
#include "mime/metadata.h"
#include "store/copy_json.h"
#include "store/index/row_codec.h"
#include "store/meta_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailvault;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  (void)store::DecodeMeta(raw);  // any bytes: a value, never a crash

  FuzzedDataProvider in(data, size);
  CopyMeta m;
  m.id = in.ConsumeIntegral<uint64_t>();
  m.placed_at = in.ConsumeIntegral<int64_t>();
  m.received_at = in.ConsumeIntegral<int64_t>();
  m.mail_from = in.ConsumeRandomLengthString(256);
  for (int n = in.ConsumeIntegralInRange(0, 4); n > 0; --n) {
    m.rcpt.push_back(in.ConsumeRandomLengthString(256));
  }
  m.rule_id = in.ConsumeRandomLengthString(64);
  m.reason = in.ConsumeRandomLengthString(256);
  m.queue_id = in.ConsumeRandomLengthString(32);
  m.statuses["external"] = in.ConsumeRandomLengthString(64);
  m.attachments.push_back({in.ConsumeRandomLengthString(128), "application/octet-stream", 1});
  const std::string message = in.ConsumeRemainingBytesAsString();
  mime::MessageHeaders h = mime::ExtractMetadata(message);
  m.from = h.from;
  m.to = h.to;
  m.cc = h.cc;
  m.subject = h.subject;
  m.message_id = h.message_id;
  m.bcc = mime::BccFromEnvelope(m.rcpt, h.to_addresses);
  for (const auto& a : h.attachments) m.attachments.push_back({a.name, a.type, a.size});

  auto back = store::DecodeMeta(store::EncodeMeta(m));
  Check(back.ok() && *back == m);

  std::vector<std::string> rcpt;
  Check(index::DecodeRcpt(index::EncodeRcpt(m.rcpt), &rcpt).ok() && rcpt == m.rcpt);
  std::map<std::string, std::string> statuses;
  Check(index::DecodeStatuses(index::EncodeStatuses(m.statuses), &statuses).ok() &&
        statuses == m.statuses);
  std::vector<Attachment> atts;
  Check(index::DecodeAttachments(index::EncodeAttachments(m.attachments), &atts).ok() &&
        atts == m.attachments);

  const std::string api = JsonText(CopyToJson(m), 2);
  Check(IsValidUtf8(api));
  Check(!nlohmann::json::parse(api, nullptr, false).is_discarded());
  return 0;
}
