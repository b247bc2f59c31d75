// The console's message preview: what a copy says, safe to show.
//
// MakeTextPreview is the preview every role may get: the text/plain body,
// or the HTML body turned into text when the mail has no text body.
// MakeHtmlPreview is the HTML body through SanitizeHtml (sanitize.h) with the
// message's inline images resolved; whether it may be shown at all is the
// caller's policy (the store's html_preview setting). The MIME structure is
// read here; the HTML itself is parsed only in the sandboxed helper process
// (sandboxed.h, with `helper`), never in the caller, which holds the keys.
// Both read the raw message from memory (the caller decrypted it) and keep
// nothing. Bodies are bounded by mime::BodyLimits' defaults. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mailvault/status.h"
#include "preview/sandboxed.h"

namespace mailvault::preview {

struct TextPreview {
  std::string text;        // UTF-8, LF line ends
  bool truncated = false;  // the body was longer than the preview limit
  bool has_html = false;   // the mail has an HTML body (an HTML preview is possible)
};

// Never fails on malformed mail: a message with no body gives empty text.
// Unavailable ("preview unavailable: ...") when the mail has only an HTML
// body and the helper could not turn it into text (RunHelper).
Result<TextPreview> MakeTextPreview(std::string_view raw, const HelperOptions& helper);

struct HtmlPreview {
  std::string html;  // a whole sanitized document
  bool remote_images_blocked = false;
  bool truncated = false;  // the HTML was cut at mime::BodyLimits::max_html
};

// NotFound("the message has no HTML body") when there is none; Unavailable
// ("preview unavailable: ...") when the helper gave no document (RunHelper).
Result<HtmlPreview> MakeHtmlPreview(std::string_view raw, const HelperOptions& helper);

}  // namespace mailvault::preview
