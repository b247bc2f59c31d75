// ByteSource: a read-only message of known size, read by offset.
//
// Lets the scan engines, the MIME walker and the store read a message that
// lives in an encrypted spool file without holding it whole in memory. A
// StringSource wraps bytes the caller already has. Implementations say
// whether they are thread-safe; StringSource is (it is immutable).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Appends min(n, size() - offset) bytes starting at `offset` to *out.
  // InvalidArgument if offset > size(); IOError/Corruption from the medium.
  virtual Status ReadAt(uint64_t offset, size_t n, std::string* out) const = 0;
};

// Over bytes the caller owns; they must outlive the source.
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override;

 private:
  std::string_view bytes_;
};

// Hands `sink` the whole source in consecutive pieces of at most `chunk`
// bytes (the last may be shorter); stops at the first error, source or sink.
Status ForEachChunk(const ByteSource& source, size_t chunk,
                    const std::function<Status(std::string_view)>& sink);

// Reads the whole source into memory (for small messages and tests).
Result<std::string> ReadAllBytes(const ByteSource& source);

}  // namespace mailvault
