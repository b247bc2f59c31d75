// The readable bodies of a message, for the console's preview.
//
// ExtractBody picks the text/plain and the text/html body of a message the
// way mail clients show it: inside a multipart/alternative only the first
// text/plain and the first text/html alternative count; inline text parts
// elsewhere (multipart/mixed with text, an inline image, more text) are
// joined in order. Parts with Content-Disposition: attachment and attached
// messages (message/rfc822, whose bodies are not this message's) are not
// bodies. Transfer encodings are undone and the declared charset converted
// to UTF-8 (GMime's converter; undeclared or US-ASCII 8-bit text is taken as
// UTF-8 when it is valid UTF-8, else as Windows-1252, which is what ISO-8859-1
// is taken as too, as browsers do). The result is always valid UTF-8 with LF
// line ends and no control characters other than tab, LF and form feed, cut
// at a character boundary when a limit is reached.
//
// Inline image/* parts with a Content-ID are returned as images so the HTML
// sanitizer can resolve cid: references to the message's own pictures.
//
// Malformed mail gives what can be extracted and never crashes: parsing is
// bounded like ExtractMetadata (parse_budget.h); a multipart whose boundary
// never occurs is parsed again with the boundary its first "--" line names;
// a message with no header block is one undeclared text/plain body.
// Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::mime {

struct BodyLimits {
  size_t max_text = 1 << 20;         // bytes of UTF-8 text
  size_t max_html = 2 << 20;         // bytes of UTF-8 HTML
  size_t max_images = 32;            // inline images kept (later ones are dropped)
  size_t max_image_bytes = 2 << 20;  // decoded; a larger image is dropped
};

struct BodyImage {
  std::string content_id;  // without < >, as declared
  std::string type;        // lower-case "image/png" as declared
  std::string data;        // decoded bytes
};

struct MessageBody {
  std::string text;  // UTF-8
  bool has_text = false, text_truncated = false;
  std::string html;  // UTF-8, as the mail has it (not sanitized)
  bool has_html = false, html_truncated = false;
  std::vector<BodyImage> images;
};

// Never fails on malformed input (a message with no body gives an empty
// MessageBody); the Result leaves room for sources that can fail.
Result<MessageBody> ExtractBody(std::string_view raw, const BodyLimits& limits = {});

}  // namespace mailvault::mime
