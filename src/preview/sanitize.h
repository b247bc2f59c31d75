// The HTML of a mail made safe to show, and the HTML of a mail as text.
//
// SanitizeHtml parses the HTML with gumbo (as a browser would) and writes a new document from an
// allow-list, never copying markup through:
// - elements: text formatting, headings, paragraphs, lists, tables, links,
//   images, quotes, pre/code, font/center and the like are kept; script,
//   style, head content, iframe/frame, object/embed/applet, form controls,
//   media, svg, math, template, noscript and the other raw-text elements are
//   dropped with their content; any other element (form, unknown tags...) is
//   dropped but its content kept;
// - attributes: a per-element allow-list of presentational ones (no event
//   handlers, no id/name/class, no srcset, no background); style attributes
//   keep only allowed CSS properties whose values contain nothing that can
//   load or run anything (see css.h);
// - links: only http, https and mailto, checked after entity decoding with
//   whitespace and control characters removed; kept links get
//   target="_blank" rel="noopener noreferrer";
// - images: only cid: references to the message's own inline images, which
//   become data: URIs when the bytes are PNG, GIF, JPEG, WebP or BMP (never
//   SVG); any other source (http, https, //, data: from the mail) is
//   removed, and remote_images_blocked tells the console to say so.
// Text and attribute values are escaped (& < > " '), attribute values are
// always double-quoted, and the output is a whole UTF-8 document:
// <!DOCTYPE html><html><head><meta charset="utf-8"></head><body>...</body></html>.
// Sanitizing the output again gives the same output, except where the
// mail's markup made the parser move content out of a table into a place no
// markup parses to (a <dt> inside a <dt>); the second pass's output is then
// stable. Either way every pass is safe on its own. The console also
// serves it under a sandboxing CSP inside a sandboxed iframe; this function
// does not rely on that.
//
// HtmlToText turns an HTML-only mail into readable text: block elements and
// <br> become line breaks, list items get "- ", table cells are separated by
// tabs, links read "text <url>" (only http, https and mailto URLs), images
// their alt text, and script, style and head content are left out.
//
// Both parse hostile HTML with no bound on time or memory: outside tests
// they run only in the sandboxed helper process (helper_main.cc,
// sandboxed.h), which bounds them. Pure functions, thread-safe. Input that is not valid UTF-8 is
// read the way gumbo reads it (invalid bytes become U+FFFD).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mime/body.h"

namespace mailvault::preview {

struct SanitizeOptions {
  // The message's inline images, for cid: references; borrowed for the
  // call. Null: every image is removed.
  const std::vector<mime::BodyImage>* cid_images = nullptr;
};

struct SanitizedHtml {
  std::string html;
  bool remote_images_blocked = false;  // an image or background from elsewhere was removed
  size_t removed = 0;                  // elements, attributes and CSS declarations removed
};

SanitizedHtml SanitizeHtml(std::string_view html, const SanitizeOptions& options = {});

std::string HtmlToText(std::string_view html);

// The URL of a link if it may be kept (http, https or mailto), cleaned of
// whitespace and control characters; empty otherwise.
std::string SafeLinkUrl(std::string_view href);

}  // namespace mailvault::preview
