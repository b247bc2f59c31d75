#include "preview/preview.h"

#include <utility>

#include "mime/body.h"
#include "preview/sanitize.h"

namespace mailvault::preview {

Result<TextPreview> MakeTextPreview(std::string_view raw) {
  MV_ASSIGN_OR_RETURN(mime::MessageBody body, mime::ExtractBody(raw));
  TextPreview preview;
  preview.has_html = body.has_html;
  if (body.has_text) {
    preview.text = std::move(body.text);
    preview.truncated = body.text_truncated;
  } else if (body.has_html) {
    preview.text = HtmlToText(body.html);
    preview.truncated = body.html_truncated;
  }
  return preview;
}

Result<HtmlPreview> MakeHtmlPreview(std::string_view raw) {
  MV_ASSIGN_OR_RETURN(mime::MessageBody body, mime::ExtractBody(raw));
  if (!body.has_html) return Status::NotFound("the message has no HTML body");
  SanitizeOptions options;
  options.cid_images = &body.images;
  SanitizedHtml clean = SanitizeHtml(body.html, options);
  HtmlPreview preview;
  preview.html = std::move(clean.html);
  preview.remote_images_blocked = clean.remote_images_blocked;
  preview.truncated = body.html_truncated || clean.truncated;
  return preview;
}

}  // namespace mailvault::preview
