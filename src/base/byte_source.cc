#include "mailvault/byte_source.h"

#include <algorithm>

namespace mailvault {

Status StringSource::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  if (offset > bytes_.size()) return Status::InvalidArgument("read past the end of the message");
  size_t len = std::min<uint64_t>(n, bytes_.size() - offset);
  out->append(bytes_.data() + offset, len);
  return Status::Ok();
}

Status ForEachChunk(const ByteSource& source, size_t chunk,
                    const std::function<Status(std::string_view)>& sink) {
  if (chunk == 0) chunk = 64 * 1024;
  std::string buf;
  for (uint64_t off = 0; off < source.size();) {
    buf.clear();
    MV_RETURN_IF_ERROR(source.ReadAt(off, chunk, &buf));
    if (buf.empty()) return Status::IOError("message source ended early");
    off += buf.size();
    MV_RETURN_IF_ERROR(sink(buf));
  }
  return Status::Ok();
}

Result<std::string> ReadAllBytes(const ByteSource& source) {
  std::string out;
  out.reserve(source.size());
  MV_RETURN_IF_ERROR(source.ReadAt(0, source.size(), &out));
  return out;
}

}  // namespace mailvault
