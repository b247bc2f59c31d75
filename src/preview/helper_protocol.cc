// The helper's request and reply codecs (see helper_protocol.h).
#include "preview/helper_protocol.h"

#include <cstdint>

namespace mailvault::preview {
namespace {

constexpr std::string_view kRequestMagic = "MVP1";
constexpr std::string_view kReplyMagic = "MVR1";

void PutU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void PutField(std::string_view field, std::string* out) {
  PutU64(field.size(), out);
  out->append(field);
}

// Reads from the front of `in`; false when it is too short.
bool TakeU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) {
    *v |= static_cast<uint64_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  }
  in->remove_prefix(8);
  return true;
}

bool TakeU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) {
    *v |= static_cast<uint32_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  }
  in->remove_prefix(4);
  return true;
}

bool TakeField(std::string_view* in, std::string* field) {
  uint64_t n = 0;
  if (!TakeU64(in, &n) || n > in->size()) return false;
  field->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

Status Bad(const char* what) {
  return Status::InvalidArgument(std::string("preview helper ") + what);
}

}  // namespace

std::string EncodeRequest(const HelperRequest& request) {
  std::string out(kRequestMagic);
  out.push_back(static_cast<char>(request.mode));
  const auto n = static_cast<uint32_t>(request.images.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  PutField(request.html, &out);
  for (const mime::BodyImage& image : request.images) {
    PutField(image.content_id, &out);
    PutField(image.type, &out);
    PutField(image.data, &out);
  }
  return out;
}

Result<HelperRequest> DecodeRequest(std::string_view in) {
  if (!in.starts_with(kRequestMagic) || in.size() < kRequestMagic.size() + 1) {
    return Bad("request: no header");
  }
  in.remove_prefix(kRequestMagic.size());
  HelperRequest request;
  const char mode = in.front();
  if (mode != 'H' && mode != 'T') return Bad("request: unknown mode");
  request.mode = static_cast<HelperRequest::Mode>(mode);
  in.remove_prefix(1);
  uint32_t images = 0;
  if (!TakeU32(&in, &images) || !TakeField(&in, &request.html)) return Bad("request: truncated");
  // Each image takes at least three length words: a count the bytes cannot
  // hold is refused before anything is reserved for it.
  if (images > in.size() / 24) return Bad("request: truncated");
  request.images.resize(images);
  for (mime::BodyImage& image : request.images) {
    if (!TakeField(&in, &image.content_id) || !TakeField(&in, &image.type) ||
        !TakeField(&in, &image.data)) {
      return Bad("request: truncated");
    }
  }
  if (!in.empty()) return Bad("request: bytes after the end");
  return request;
}

std::string EncodeReply(const HelperReply& reply) {
  std::string out(kReplyMagic);
  out.push_back(reply.remote_images_blocked ? 1 : 0);
  PutField(reply.body, &out);
  return out;
}

Result<HelperReply> DecodeReply(std::string_view in) {
  if (!in.starts_with(kReplyMagic) || in.size() < kReplyMagic.size() + 1) {
    return Bad("reply: no header");
  }
  in.remove_prefix(kReplyMagic.size());
  HelperReply reply;
  const auto flags = static_cast<unsigned char>(in.front());
  if (flags > 1) return Bad("reply: unknown flags");
  reply.remote_images_blocked = flags == 1;
  in.remove_prefix(1);
  if (!TakeField(&in, &reply.body)) return Bad("reply: truncated");
  if (!in.empty()) return Bad("reply: bytes after the end");
  return reply;
}

}  // namespace mailvault::preview
