// What the daemon and the sandboxed HTML helper (mailvault-preview,
// helper_main.cc) say to each other over its stdin and stdout: one request,
// one reply, each a small framed codec.
//
// Request: "MVP1", the mode ('H' sanitize to HTML, 'T' HTML to text), the
// image count (u32), then length-prefixed fields (u64 little-endian length
// and bytes): the HTML, and content id, type and bytes of each image.
// Reply: "MVR1", a flags byte (bit 0: remote images were blocked), and one
// field: the sanitized document or the text.
// Decoders take untrusted bytes (the helper's input is the mail; its reply
// may come from a compromised helper) and reject anything else than exactly
// one well-formed frame: InvalidArgument, never a crash. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"
#include "mime/body.h"

namespace mailvault::preview {

struct HelperRequest {
  enum class Mode : char { kSanitize = 'H', kText = 'T' };
  Mode mode = Mode::kSanitize;
  std::string html;
  std::vector<mime::BodyImage> images;  // for cid: references (kSanitize only)
};

struct HelperReply {
  std::string body;  // the sanitized document, or the text (UTF-8)
  bool remote_images_blocked = false;
};

std::string EncodeRequest(const HelperRequest& request);
Result<HelperRequest> DecodeRequest(std::string_view bytes);

std::string EncodeReply(const HelperReply& reply);
Result<HelperReply> DecodeReply(std::string_view bytes);

}  // namespace mailvault::preview
