#include "store/codec.h"

#include "crypto/sealer.h"
#include "store/copy_json.h"

namespace mailvault::store {
namespace {

// AD for the sealed metadata: binds it to the record's id.
uint64_t MetaAd(uint64_t id) { return id; }

std::string_view Payload(std::string_view record, const RecordHeader& h) {
  return record.substr(kRecordHeaderSize, h.payload_len);
}

}  // namespace

void EncodeCopyRecord(const CopyMeta& meta, std::string_view raw, const crypto::KeyRing& keys,
                      const crypto::PageCipher& meta_cipher, std::string* out) {
  std::string meta_plain = CopyToJson(meta).dump();
  std::string meta_sealed(meta_plain.size() + crypto::PageCipher::kOverhead, '\0');
  meta_cipher.Seal(reinterpret_cast<const uint8_t*>(meta_plain.data()), meta_plain.size(),
                   MetaAd(meta.id), reinterpret_cast<uint8_t*>(meta_sealed.data()));

  crypto::Sealer sealer(keys.current_public());
  size_t chunks = raw.size() / kBodyChunk + 1;
  uint64_t payload_len = 4 + meta_sealed.size() + crypto::kSealedHeaderSize + raw.size() +
                         chunks * (4 + crypto::kChunkOverhead);

  size_t start = out->size();
  out->reserve(start + kRecordHeaderSize + payload_len + kRecordTrailerSize);
  RecordHeader h;
  h.type = RecordType::kCopy;
  h.id = meta.id;
  h.key_id = keys.current_id();
  h.payload_len = payload_len;
  out->append(EncodeRecordHeader(h));
  size_t payload_start = out->size();
  AppendChunk(meta_sealed, out);
  out->append(sealer.Header());
  std::string cipher;
  for (size_t off = 0, i = 0; i < chunks; ++i, off += kBodyChunk) {
    std::string_view piece = raw.substr(std::min(off, raw.size()), kBodyChunk);
    cipher.clear();
    sealer.Push(piece, i + 1 == chunks, &cipher);
    AppendChunk(cipher, out);
  }
  // The length was computed ahead so the header could go first; a mismatch
  // would be a bug in this function, never bad input.
  if (out->size() - payload_start != payload_len) std::abort();
  out->append(EncodeTrailer(std::string_view(*out).substr(payload_start)));
}

Result<RecordHeader> CheckRecord(std::string_view record) {
  MV_ASSIGN_OR_RETURN(RecordHeader h, DecodeRecordHeader(record));
  if (record.size() < h.record_len()) return Status::Corruption("record is truncated");
  if (h.type != RecordType::kCopy) return Status::NotFound("copy was deleted");
  MV_RETURN_IF_ERROR(
      CheckTrailer(Payload(record, h), record.substr(kRecordHeaderSize + h.payload_len)));
  return h;
}

Result<CopyMeta> OpenMeta(std::string_view record, const crypto::PageCipher& meta_cipher) {
  MV_ASSIGN_OR_RETURN(RecordHeader h, DecodeRecordHeader(record));
  std::string_view rest = Payload(record, h);
  MV_ASSIGN_OR_RETURN(std::string_view sealed, NextChunk(&rest));
  if (sealed.size() < crypto::PageCipher::kOverhead) {
    return Status::Corruption("sealed metadata is truncated");
  }
  std::string plain(sealed.size() - crypto::PageCipher::kOverhead, '\0');
  if (!meta_cipher.Open(reinterpret_cast<const uint8_t*>(sealed.data()), plain.size(), MetaAd(h.id),
                        reinterpret_cast<uint8_t*>(plain.data()))) {
    return Status::Corruption("metadata of copy " + std::to_string(h.id) +
                              " fails authentication (altered, or another store's key)");
  }
  auto j = nlohmann::json::parse(plain, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("metadata is not JSON");
  MV_ASSIGN_OR_RETURN(CopyMeta m, CopyFromJson(j));
  if (m.id != h.id) return Status::Corruption("metadata names another copy");
  return m;
}

Result<std::string> OpenBody(std::string_view record, const crypto::KeyRing& keys) {
  MV_ASSIGN_OR_RETURN(RecordHeader h, DecodeRecordHeader(record));
  std::string_view rest = Payload(record, h);
  MV_ASSIGN_OR_RETURN(std::string_view sealed_meta, NextChunk(&rest));
  (void)sealed_meta;
  if (rest.size() < crypto::kSealedHeaderSize)
    return Status::Corruption("body header is truncated");
  std::string_view body_header = rest.substr(0, crypto::kSealedHeaderSize);
  std::string_view chunks = rest.substr(body_header.size());

  MV_ASSIGN_OR_RETURN(auto pair, keys.KeyPair(h.key_id));
  MV_ASSIGN_OR_RETURN(auto opener, crypto::Opener::Open(pair.first, pair.second, body_header));
  std::string out;
  bool final = false;
  while (!chunks.empty()) {
    if (final) return Status::Corruption("data after the final chunk");
    MV_ASSIGN_OR_RETURN(std::string_view c, NextChunk(&chunks));
    MV_RETURN_IF_ERROR(opener->Pull(c, &out, &final));
  }
  if (!final) return Status::Corruption("message is truncated (no final chunk)");
  return out;
}

}  // namespace mailvault::store
