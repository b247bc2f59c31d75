// Building and opening copy records: the bridge between a copy (metadata +
// raw bytes) and the framed, encrypted record in a segment.
//
// The metadata is sealed with the key ring's symmetric index key (the
// writer holds it anyway, since it writes the index; recovery and
// rebuild-index need nothing else). The body is sealed to the current public
// key with a fresh message key, in 64 KiB chunks, so reading it needs that
// key id's secret key. Thread-safe: all functions are pure given the keys.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "crypto/keyring.h"
#include "crypto/page_cipher.h"
#include "env/env.h"
#include "mailvault/byte_source.h"
#include "mailvault/copy.h"
#include "mailvault/status.h"
#include "store/record.h"

namespace mailvault::store {

inline constexpr size_t kBodyChunk = 64 * 1024;

// Receives a record or a body piece by piece; an error stops the writer.
using Sink = std::function<Status(std::string_view)>;

// Writes the whole record (header, payload, trailer) for `meta` (whose id
// is set) and the message `body` to `sink` in pieces of about kBodyChunk,
// reading `body` one kBodyChunk at a time, so a record of any size needs
// only one chunk of memory. `body` is read on the calling thread and must
// keep its size() during the call. Returns the record's length, or the
// first error of the sink or of `body` (a body read that fails or returns
// fewer or more bytes than asked stops the record, as IOError if the source
// gave no error). On error the sink has seen a prefix of the record that the
// caller must discard.
Result<uint64_t> WriteCopyRecord(const CopyMeta& meta, const ByteSource& body,
                                 const crypto::KeyRing& keys, const crypto::PageCipher& meta_cipher,
                                 const Sink& sink);
// The same, appended to *out; on error *out holds a partial record.
Status EncodeCopyRecord(const CopyMeta& meta, const ByteSource& body, const crypto::KeyRing& keys,
                        const crypto::PageCipher& meta_cipher, std::string* out);

// Decrypts the body of the copy record at [offset, offset+length) of `file`
// into `sink`, one chunk at a time. Every chunk is authenticated before it
// is passed on; Corruption if the record fails any check, in which case the
// sink has seen a prefix that the caller must discard.
Status StreamBody(const RandomAccessFile& file, uint64_t offset, uint64_t length,
                  const crypto::KeyRing& keys, const Sink& sink);

// Given a whole record (as located by the index or a scan), checks its
// framing and returns its header. Corruption names what failed.
Result<RecordHeader> CheckRecord(std::string_view record);

// Decrypts the metadata of a checked copy record.
Result<CopyMeta> OpenMeta(std::string_view record, const crypto::PageCipher& meta_cipher);

// Decrypts the body of a checked copy record. PermissionDenied without the
// secret key, Corruption when it fails authentication.
Result<std::string> OpenBody(std::string_view record, const crypto::KeyRing& keys);

}  // namespace mailvault::store
