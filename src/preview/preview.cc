#include "preview/preview.h"

#include <utility>

#include "mime/body.h"

namespace mailvault::preview {

Result<TextPreview> MakeTextPreview(std::string_view raw, const HelperOptions& helper) {
  MV_ASSIGN_OR_RETURN(mime::MessageBody body, mime::ExtractBody(raw));
  TextPreview preview;
  preview.has_html = body.has_html;
  if (body.has_text) {
    preview.text = std::move(body.text);
    preview.truncated = body.text_truncated;
  } else if (body.has_html) {
    HelperRequest request;
    request.mode = HelperRequest::Mode::kText;
    request.html = std::move(body.html);
    MV_ASSIGN_OR_RETURN(HelperReply reply, RunHelper(helper, request));
    preview.text = std::move(reply.body);
    preview.truncated = body.html_truncated;
  }
  return preview;
}

Result<HtmlPreview> MakeHtmlPreview(std::string_view raw, const HelperOptions& helper) {
  MV_ASSIGN_OR_RETURN(mime::MessageBody body, mime::ExtractBody(raw));
  if (!body.has_html) return Status::NotFound("the message has no HTML body");
  HelperRequest request;
  request.mode = HelperRequest::Mode::kSanitize;
  request.html = std::move(body.html);
  request.images = std::move(body.images);
  MV_ASSIGN_OR_RETURN(HelperReply reply, RunHelper(helper, request));
  HtmlPreview preview;
  preview.html = std::move(reply.body);
  preview.remote_images_blocked = reply.remote_images_blocked;
  preview.truncated = body.html_truncated;
  return preview;
}

}  // namespace mailvault::preview
