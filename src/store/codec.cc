#include "store/codec.h"

#include <algorithm>

#include "crypto/sealer.h"
#include "store/meta_codec.h"

namespace mailvault::store {
namespace {

// AD for the sealed metadata: binds it to the record's id.
uint64_t MetaAd(uint64_t id) { return id; }

std::string_view Payload(std::string_view record, const RecordHeader& h) {
  return record.substr(kRecordHeaderSize, h.payload_len);
}

}  // namespace

Result<uint64_t> WriteCopyRecord(const CopyMeta& meta, const ByteSource& body,
                                 const crypto::KeyRing& keys, const crypto::PageCipher& meta_cipher,
                                 const Sink& sink) {
  std::string meta_plain = EncodeMeta(meta);
  std::string meta_sealed(meta_plain.size() + crypto::PageCipher::kOverhead, '\0');
  meta_cipher.Seal(reinterpret_cast<const uint8_t*>(meta_plain.data()), meta_plain.size(),
                   MetaAd(meta.id), reinterpret_cast<uint8_t*>(meta_sealed.data()));

  crypto::Sealer sealer(keys.current_public());
  const uint64_t size = body.size();
  // The last chunk is short, or empty when size is a multiple of kBodyChunk.
  const uint64_t chunks = size / kBodyChunk + 1;
  uint64_t payload_len = 4 + meta_sealed.size() + crypto::kSealedHeaderSize + size +
                         chunks * (4 + crypto::kChunkOverhead);
  RecordHeader h;
  h.type = RecordType::kCopy;
  h.id = meta.id;
  h.key_id = keys.current_id();
  h.payload_len = payload_len;

  // The payload's CRC is computed as it streams out; the trailer carries it.
  uint32_t crc = 0;
  uint64_t written = 0;
  std::string piece = EncodeRecordHeader(h);
  MV_RETURN_IF_ERROR(sink(piece));
  piece.clear();
  AppendChunk(meta_sealed, &piece);
  piece.append(sealer.Header());
  std::string plain;
  std::string cipher;
  for (uint64_t off = 0, i = 0; i < chunks; ++i, off += kBodyChunk) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kBodyChunk, size - off));
    plain.clear();
    if (want > 0) {
      MV_RETURN_IF_ERROR(body.ReadAt(off, want, &plain));
      if (plain.size() != want) {
        // The length is already in the header: a source that changed size
        // cannot make a valid record.
        return Status::IOError("message source gave " + std::to_string(plain.size()) +
                               " bytes at offset " + std::to_string(off) + ", expected " +
                               std::to_string(want));
      }
    }
    cipher.clear();
    sealer.Push(plain, i + 1 == chunks, &cipher);
    AppendChunk(cipher, &piece);
    crc = Crc32Extend(crc, piece);
    written += piece.size();
    MV_RETURN_IF_ERROR(sink(piece));
    piece.clear();
  }
  // The length was computed ahead so the header could go first; with every
  // read checked above, a mismatch would be a bug in this function.
  if (written != payload_len) std::abort();
  MV_RETURN_IF_ERROR(sink(EncodeTrailerFromCrc(crc)));
  return h.record_len();
}

Status EncodeCopyRecord(const CopyMeta& meta, const ByteSource& body, const crypto::KeyRing& keys,
                        const crypto::PageCipher& meta_cipher, std::string* out) {
  out->reserve(out->size() + body.size() + body.size() / 1000 + 4096);
  auto n = WriteCopyRecord(meta, body, keys, meta_cipher, [out](std::string_view p) {
    out->append(p);
    return Status::Ok();
  });
  return n.status();  // only the body can fail: appending to a string cannot
}

Status StreamBody(const RandomAccessFile& file, uint64_t offset, uint64_t length,
                  const crypto::KeyRing& keys, const Sink& sink) {
  std::string buf;
  auto read = [&](uint64_t at, size_t n) -> Status {
    buf.resize(n);
    MV_ASSIGN_OR_RETURN(size_t got, file.Read(at, n, buf.data()));
    if (got != n) return Status::Corruption("record runs past the end of its segment");
    return Status::Ok();
  };
  MV_RETURN_IF_ERROR(read(offset, kRecordHeaderSize));
  MV_ASSIGN_OR_RETURN(RecordHeader h, DecodeRecordHeader(buf));
  if (h.record_len() != length) return Status::Corruption("record length disagrees with index");
  if (h.type != RecordType::kCopy) return Status::NotFound("copy was deleted");
  const uint64_t payload = offset + kRecordHeaderSize;
  const uint64_t end = payload + h.payload_len;
  uint32_t crc = 0;
  uint64_t pos = payload;
  // Reads one u32-framed chunk at pos into buf (frame included).
  auto next_frame = [&](std::string_view* chunk) -> Status {
    if (end - pos < 4) return Status::Corruption("chunk frame is truncated");
    MV_RETURN_IF_ERROR(read(pos, 4));
    uint32_t len = static_cast<uint8_t>(buf[0]) | static_cast<uint8_t>(buf[1]) << 8 |
                   static_cast<uint8_t>(buf[2]) << 16 |
                   static_cast<uint32_t>(static_cast<uint8_t>(buf[3])) << 24;
    if (end - pos - 4 < len || len > 2 * kBodyChunk)
      return Status::Corruption("chunk is truncated");
    MV_RETURN_IF_ERROR(read(pos, 4 + size_t{len}));
    crc = Crc32Extend(crc, buf);
    pos += 4 + len;
    *chunk = std::string_view(buf).substr(4);
    return Status::Ok();
  };
  std::string_view chunk;
  MV_RETURN_IF_ERROR(next_frame(&chunk));  // sealed metadata: not needed here
  if (end - pos < crypto::kSealedHeaderSize) return Status::Corruption("body header is truncated");
  MV_RETURN_IF_ERROR(read(pos, crypto::kSealedHeaderSize));
  crc = Crc32Extend(crc, buf);
  pos += crypto::kSealedHeaderSize;
  MV_ASSIGN_OR_RETURN(auto pair, keys.KeyPair(h.key_id));
  MV_ASSIGN_OR_RETURN(auto opener, crypto::Opener::Open(pair.first, pair.second, buf));
  std::string plain;
  bool final = false;
  while (pos < end) {
    if (final) return Status::Corruption("data after the final chunk");
    MV_RETURN_IF_ERROR(next_frame(&chunk));
    plain.clear();
    MV_RETURN_IF_ERROR(opener->Pull(chunk, &plain, &final));
    MV_RETURN_IF_ERROR(sink(plain));
  }
  if (!final) return Status::Corruption("message is truncated (no final chunk)");
  MV_RETURN_IF_ERROR(read(end, kRecordTrailerSize));
  return CheckTrailerCrc(crc, buf);
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
  MV_ASSIGN_OR_RETURN(CopyMeta m, DecodeMeta(plain));
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
