// The console's message preview: what a copy says, safe to show.
//
// MakeTextPreview is the preview every role may get: the text/plain body,
// or the HTML body turned into text when the mail has no text body.
// MakeHtmlPreview is the HTML body through SanitizeHtml (sanitize.h) with the
// message's inline images resolved; whether it may be shown at all is the
// caller's policy (the store's html_preview setting). Both read the raw
// message from memory (the caller decrypted it) and keep nothing. Bodies
// are bounded by mime::BodyLimits' defaults. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mailvault/status.h"

namespace mailvault::preview {

struct TextPreview {
  std::string text;        // UTF-8, LF line ends
  bool truncated = false;  // the body was longer than the preview limit
  bool has_html = false;   // the mail has an HTML body (an HTML preview is possible)
};

// Never fails on malformed mail: a message with no body gives empty text.
Result<TextPreview> MakeTextPreview(std::string_view raw);

struct HtmlPreview {
  std::string html;  // a whole sanitized document
  bool remote_images_blocked = false;
  bool truncated = false;  // the HTML was cut (size limit or parse budget)
};

// NotFound("the message has no HTML body") when there is none.
Result<HtmlPreview> MakeHtmlPreview(std::string_view raw);

}  // namespace mailvault::preview
