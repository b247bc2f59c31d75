// Record framing for segment files (docs/store-format.md). Pure codec: no
// I/O, no crypto; thread-safe.
//
//   segment header (32 bytes): "MVSEG\0\1\0" | u64 segment | i64 created_at
//                              | u32 0 | u32 crc32(previous 28 bytes)
//   record:  header (32 bytes) | payload (payload_len bytes) | trailer (8 bytes)
//     header:  u32 "MVR1" | u8 type | u8 0 | u16 0 | u64 id | u32 key_id
//              | u64 payload_len | u32 crc32(previous 28 bytes)
//     trailer: u32 crc32(payload) | u32 "MVRE"
// All integers little-endian. A record whose header or payload fails its
// check is never served; type kDeleted marks a copy deleted in place (its
// payload bytes are then freed, so the payload check no longer applies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault::store {

inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 32;
inline constexpr size_t kRecordTrailerSize = 8;
inline constexpr uint64_t kMaxPayload = uint64_t{4} << 30;  // 4 GiB: larger is corruption

enum class RecordType : uint8_t { kCopy = 1, kDeleted = 2 };

struct RecordHeader {
  RecordType type = RecordType::kCopy;
  uint64_t id = 0;
  uint32_t key_id = 0;
  uint64_t payload_len = 0;
  uint64_t record_len() const { return kRecordHeaderSize + payload_len + kRecordTrailerSize; }
};

std::string EncodeSegmentHeader(uint64_t segment, int64_t created_at);
// Corruption unless `data` is a valid header of segment `segment`.
Status DecodeSegmentHeader(std::string_view data, uint64_t segment);

std::string EncodeRecordHeader(const RecordHeader& h);
// Corruption if the magic or the check fails, or the length is absurd.
Result<RecordHeader> DecodeRecordHeader(std::string_view data);

std::string EncodeTrailer(std::string_view payload);
std::string EncodeTrailerFromCrc(uint32_t payload_crc);
// Corruption unless `trailer` matches `payload`.
Status CheckTrailer(std::string_view payload, std::string_view trailer);
// The same, given the payload's CRC computed while streaming it.
Status CheckTrailerCrc(uint32_t payload_crc, std::string_view trailer);

uint32_t Crc32(std::string_view data);
uint32_t Crc32Extend(uint32_t crc, std::string_view data);

// The payload of a copy record is a sequence of framed chunks (u32 len |
// bytes) around a fixed-size header:
//   chunk(sealed metadata) | sealed body header | chunk(body cipher)...
// Iterates framed chunks: returns the next chunk and advances *rest;
// Corruption on a bad frame.
Result<std::string_view> NextChunk(std::string_view* rest);
void AppendChunk(std::string_view cipher, std::string* out);

}  // namespace mailvault::store
