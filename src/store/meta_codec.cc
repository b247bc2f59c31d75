#include "store/meta_codec.h"

#include <nlohmann/json.hpp>

#include "store/copy_json.h"

namespace mailvault::store {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutSigned(int64_t v, std::string* out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

// Reads fields off the front of the input; the first failure sticks and
// names the field, so Decode checks once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  uint64_t Varint(const char* field) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Fail(field, "is truncated");
      const auto b = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      if (shift == 63 && b > 1) return Fail(field, "overflows 64 bits");
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail(field, "overflows 64 bits");
  }

  int64_t Signed(const char* field) {
    const uint64_t z = Varint(field);
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }

  std::string Bytes(const char* field) {
    const uint64_t n = Varint(field);
    if (n > in_.size()) {
      Fail(field, "runs past the end");
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }

  // A count of items that each take at least `min_item` bytes: bounded by
  // what is left, so a forged count cannot make the reader allocate.
  uint64_t Count(const char* field, size_t min_item) {
    const uint64_t n = Varint(field);
    if (n > in_.size() / min_item) return Fail(field, "count exceeds the data");
    return n;
  }

  bool done() const { return in_.empty(); }
  const Status& status() const { return status_; }

 private:
  uint64_t Fail(const char* field, const char* what) {
    if (status_.ok()) {
      status_ = Status::Corruption(std::string("copy metadata: ") + field + " " + what);
    }
    in_ = {};
    return 0;
  }

  std::string_view in_;
  Status status_;
};

Result<CopyMeta> DecodeV2(std::string_view data) {
  Reader r(data);
  CopyMeta m;
  m.id = r.Varint("id");
  m.placed_at = r.Signed("placed_at");
  m.received_at = r.Signed("received_at");
  m.sent_at = r.Signed("sent_at");
  m.mail_from = r.Bytes("mail_from");
  for (uint64_t n = r.Count("rcpt", 1); n > 0; --n) m.rcpt.push_back(r.Bytes("rcpt"));
  m.from = r.Bytes("from");
  m.to = r.Bytes("to");
  m.cc = r.Bytes("cc");
  m.bcc = r.Bytes("bcc");
  m.subject = r.Bytes("subject");
  m.message_id = r.Bytes("message_id");
  m.queue_id = r.Bytes("queue_id");
  m.size = r.Varint("size");
  m.rule_id = r.Bytes("rule_id");
  for (uint64_t n = r.Count("statuses", 2); n > 0; --n) {
    std::string engine = r.Bytes("statuses");
    m.statuses[std::move(engine)] = r.Bytes("statuses");
  }
  m.reason = r.Bytes("reason");
  for (uint64_t n = r.Count("attachments", 3); n > 0; --n) {
    Attachment a;
    a.name = r.Bytes("attachment name");
    a.type = r.Bytes("attachment type");
    a.size = r.Varint("attachment size");
    m.attachments.push_back(std::move(a));
  }
  m.body_digest = r.Bytes("body_digest");
  if (!r.status().ok()) return r.status();
  if (!r.done()) return Status::Corruption("copy metadata: bytes after the last field");
  return m;
}

}  // namespace

std::string EncodeMeta(const CopyMeta& m) {
  std::string out;
  out.reserve(256 + m.subject.size() + m.reason.size());
  out.push_back(static_cast<char>(kMetaVersion));
  PutVarint(m.id, &out);
  PutSigned(m.placed_at, &out);
  PutSigned(m.received_at, &out);
  PutSigned(m.sent_at, &out);
  PutBytes(m.mail_from, &out);
  PutVarint(m.rcpt.size(), &out);
  for (const std::string& r : m.rcpt) PutBytes(r, &out);
  for (const std::string* s :
       {&m.from, &m.to, &m.cc, &m.bcc, &m.subject, &m.message_id, &m.queue_id}) {
    PutBytes(*s, &out);
  }
  PutVarint(m.size, &out);
  PutBytes(m.rule_id, &out);
  PutVarint(m.statuses.size(), &out);
  for (const auto& [engine, label] : m.statuses) {
    PutBytes(engine, &out);
    PutBytes(label, &out);
  }
  PutBytes(m.reason, &out);
  PutVarint(m.attachments.size(), &out);
  for (const Attachment& a : m.attachments) {
    PutBytes(a.name, &out);
    PutBytes(a.type, &out);
    PutVarint(a.size, &out);
  }
  PutBytes(m.body_digest, &out);
  return out;
}

Result<CopyMeta> DecodeMeta(std::string_view data) {
  if (data.empty()) return Status::Corruption("copy metadata is empty");
  const auto version = static_cast<uint8_t>(data.front());
  if (version == '{') {  // version 1: the JSON of CopyToJson
    auto j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::Corruption("copy metadata (version 1) is not JSON");
    return CopyFromJson(j);
  }
  if (version == kMetaVersion) return DecodeV2(data.substr(1));
  return Status::Corruption("copy metadata has version " + std::to_string(version) +
                            ", which this build does not know (written by a newer mailvault?)");
}

}  // namespace mailvault::store
