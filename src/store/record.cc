#include "store/record.h"

#include <zlib.h>

#include <cstring>

namespace mailvault::store {
namespace {

constexpr char kSegmentMagic[8] = {'M', 'V', 'S', 'E', 'G', 0, 1, 0};
constexpr uint32_t kRecordMagic = 0x3152564D;   // "MVR1"
constexpr uint32_t kTrailerMagic = 0x4552564D;  // "MVRE"

void Put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void Put64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

uint32_t Crc32Extend(uint32_t crc, std::string_view data) {
  // zlib's crc32 takes a uInt length; feed large inputs in pieces.
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  uLong c = crc;
  while (left > 0) {
    uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    c = ::crc32(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

uint32_t Crc32(std::string_view data) { return Crc32Extend(0, data); }

std::string EncodeSegmentHeader(uint64_t segment, int64_t created_at) {
  std::string out(kSegmentMagic, sizeof kSegmentMagic);
  Put64(&out, segment);
  Put64(&out, static_cast<uint64_t>(created_at));
  Put32(&out, 0);
  Put32(&out, Crc32(out));
  return out;
}

Status DecodeSegmentHeader(std::string_view data, uint64_t segment) {
  if (data.size() < kSegmentHeaderSize) return Status::Corruption("segment header is truncated");
  if (std::memcmp(data.data(), kSegmentMagic, sizeof kSegmentMagic) != 0) {
    return Status::Corruption("not a mailvault segment (bad magic)");
  }
  if (Get32(data.data() + 28) != Crc32(data.substr(0, 28))) {
    return Status::Corruption("segment header fails its checksum");
  }
  if (Get64(data.data() + 8) != segment) {
    return Status::Corruption("segment header names segment " +
                              std::to_string(Get64(data.data() + 8)));
  }
  return Status::Ok();
}

std::string EncodeRecordHeader(const RecordHeader& h) {
  std::string out;
  out.reserve(kRecordHeaderSize);
  Put32(&out, kRecordMagic);
  out.push_back(static_cast<char>(h.type));
  out.push_back(0);
  out.push_back(0);
  out.push_back(0);
  Put64(&out, h.id);
  Put32(&out, h.key_id);
  Put64(&out, h.payload_len);
  Put32(&out, Crc32(out));
  return out;
}

Result<RecordHeader> DecodeRecordHeader(std::string_view data) {
  if (data.size() < kRecordHeaderSize) return Status::Corruption("record header is truncated");
  const char* p = data.data();
  if (Get32(p) != kRecordMagic) return Status::Corruption("no record header here (bad magic)");
  if (Get32(p + 28) != Crc32(data.substr(0, 28))) {
    return Status::Corruption("record header fails its checksum");
  }
  RecordHeader h;
  uint8_t type = static_cast<uint8_t>(p[4]);
  if (type != static_cast<uint8_t>(RecordType::kCopy) &&
      type != static_cast<uint8_t>(RecordType::kDeleted)) {
    return Status::Corruption("unknown record type " + std::to_string(type));
  }
  h.type = static_cast<RecordType>(type);
  h.id = Get64(p + 8);
  h.key_id = Get32(p + 16);
  h.payload_len = Get64(p + 20);
  if (h.payload_len > kMaxPayload) return Status::Corruption("record length is absurd");
  return h;
}

std::string EncodeTrailerFromCrc(uint32_t payload_crc) {
  std::string out;
  Put32(&out, payload_crc);
  Put32(&out, kTrailerMagic);
  return out;
}

std::string EncodeTrailer(std::string_view payload) { return EncodeTrailerFromCrc(Crc32(payload)); }

Status CheckTrailerCrc(uint32_t payload_crc, std::string_view trailer) {
  if (trailer.size() < kRecordTrailerSize) return Status::Corruption("record is truncated");
  if (Get32(trailer.data() + 4) != kTrailerMagic) {
    return Status::Corruption("record trailer is missing");
  }
  if (Get32(trailer.data()) != payload_crc) return Status::Corruption("record fails its checksum");
  return Status::Ok();
}

Status CheckTrailer(std::string_view payload, std::string_view trailer) {
  return CheckTrailerCrc(Crc32(payload), trailer);
}

Result<std::string_view> NextChunk(std::string_view* rest) {
  if (rest->size() < 4) return Status::Corruption("chunk frame is truncated");
  uint32_t len = Get32(rest->data());
  if (rest->size() - 4 < len) return Status::Corruption("chunk is truncated");
  std::string_view chunk = rest->substr(4, len);
  rest->remove_prefix(4 + len);
  return chunk;
}

void AppendChunk(std::string_view cipher, std::string* out) {
  Put32(out, static_cast<uint32_t>(cipher.size()));
  out->append(cipher);
}

}  // namespace mailvault::store
