// The copies: search, view, text and HTML preview, .eml and archive
// downloads, delete.
#include <spdlog/spdlog.h>

#include <cctype>
#include <string>
#include <string_view>

#include "base/mbox.h"
#include "console/query_params.h"
#include "console/server_impl.h"
#include "preview/preview.h"
#include "store/copy_json.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

// The HTML preview's own policy: no script, no network, nothing but inline
// style and the data: images the sanitizer embedded; `sandbox` gives the
// document a unique origin even if opened outside its <iframe sandbox>.
constexpr char kPreviewPolicy[] =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'";

constexpr size_t kMaxArchiveCopies = 1000;
constexpr size_t kMaxDeleteCopies = 10'000;

// Error text for a copy that is gone or unreadable.
void SendCopyError(httplib::Response& res, CopyId id, const Status& s) {
  if (s.code() == Code::kNotFound) return SendError(res, 404, "no copy " + std::to_string(id));
  spdlog::error("console: copy {}: {}", id, s.ToString());
  SendStatus(res, s);
}

// The HTML preview's frame when the helper gave no document: `why` is
// RunHelper's message ("preview unavailable: ..."), escaped all the same.
std::string PreviewUnavailablePage(std::string_view why) {
  std::string text;
  for (char ch : why) {
    switch (ch) {
      case '&':
        text += "&amp;";
        break;
      case '<':
        text += "&lt;";
        break;
      case '>':
        text += "&gt;";
        break;
      case '"':
        text += "&quot;";
        break;
      default:
        text += ch;
    }
  }
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
         "<p style=\"font-family:sans-serif;color:#555\">" +
         text +
         ".</p><p style=\"font-family:sans-serif;color:#555\">The text preview and the .eml "
         "download still work.</p></body></html>";
}

}  // namespace

void ConsoleServer::Impl::SearchCopies(Call& c) {
  auto query = ParseCopiesQuery(c.req.params, env.NowMicros());
  if (!query.ok()) return SendError(c.res, 400, query.status().message());
  auto page = store.Search(*query);
  if (!page.ok()) return SendStatus(c.res, page.status());
  json items = json::array();
  for (const CopyMeta& m : page->items) items.push_back(CopyToJson(m));
  SendJson(c.res, 200,
           {{"items", std::move(items)}, {"next", page->next ? json(*page->next) : json(nullptr)}});
}

void ConsoleServer::Impl::GetCopy(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  auto meta = store.Get(*id);
  if (!meta.ok()) return SendCopyError(c.res, *id, meta.status());
  json out = CopyToJson(*meta);
  // The same message kept twice (a retry after a lost end-of-message
  // reply, docs/intake.md): every role that may view this copy may view
  // those. A failed lookup only loses the hint.
  auto dups = store.PossibleDuplicates(*id);
  out["possible_duplicates"] = dups.ok() ? json(*dups) : json::array();
  SendJson(c.res, 200, out);
}

void ConsoleServer::Impl::GetText(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  c.detail = "text";
  auto raw = store.Read(*id);
  if (!raw.ok()) return SendCopyError(c.res, *id, raw.status());
  auto text = preview::MakeTextPreview(*raw, options.preview);
  if (!text.ok()) return SendCopyError(c.res, *id, text.status());
  SendJson(c.res, 200,
           {{"text", text->text},
            {"truncated", text->truncated},
            {"has_html", text->has_html},
            {"html_allowed", settings.policy().html_preview}});
}

void ConsoleServer::Impl::GetHtml(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  c.detail = "html";
  if (!settings.policy().html_preview) {
    return SendError(c.res, 403, "the HTML preview is turned off (setting html_preview)");
  }
  auto raw = store.Read(*id);
  if (!raw.ok()) return SendCopyError(c.res, *id, raw.status());
  auto html = preview::MakeHtmlPreview(*raw, options.preview);
  if (!html.ok() && html.status().code() == Code::kNotFound) {
    return SendError(c.res, 404, html.status().message());
  }
  if (!html.ok() && html.status().code() != Code::kUnavailable) {
    return SendCopyError(c.res, *id, html.status());
  }
  // Framed by the console only; everything else in the policy.
  c.res.headers.erase("X-Frame-Options");
  c.res.set_header("X-Frame-Options", "SAMEORIGIN");
  c.res.set_header("Content-Security-Policy", kPreviewPolicy);
  c.res.set_header("Cross-Origin-Resource-Policy", "same-origin");
  if (!html.ok()) {
    // The helper gave no document (hostile or huge HTML, or no helper):
    // the frame says so instead of showing a JSON error or nothing.
    spdlog::warn("console: copy {}: {}", *id, html.status().message());
    c.res.status = 503;
    c.res.set_content(PreviewUnavailablePage(html.status().message()), "text/html; charset=utf-8");
    return;
  }
  c.res.status = 200;
  if (html->remote_images_blocked) c.res.set_header("X-Remote-Images-Blocked", "1");
  c.res.set_content(std::move(html->html), "text/html; charset=utf-8");
}

void ConsoleServer::Impl::GetEml(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  c.detail = "eml";
  auto meta = store.Get(*id);
  if (!meta.ok()) return SendCopyError(c.res, *id, meta.status());
  if (!AuditBeforeSending(c, "save")) return;
  c.res.set_header("Content-Disposition",
                   "attachment; filename=\"copy-" + std::to_string(*id) + ".eml\"");
  const CopyId copy = *id;
  Store* s = &store;
  // Streamed as it is authenticated, 64 KiB at a time: a corrupt record ends
  // the transfer without its terminating chunk, so the client sees it
  // failed rather than a short file.
  c.res.set_chunked_content_provider("message/rfc822", [s, copy](size_t, httplib::DataSink& sink) {
    Status st = s->ReadTo(copy, [&sink](std::string_view piece) {
      if (!sink.write(piece.data(), piece.size())) {
        return Status::IOError("the client went away");
      }
      return Status::Ok();
    });
    if (!st.ok()) {
      spdlog::error("console: download of copy {}: {}", copy, st.ToString());
      return false;
    }
    sink.done();
    return true;
  });
}

void ConsoleServer::Impl::GetArchive(Call& c) {
  auto ids = ParseIdList(c.req.get_param_value("ids"), kMaxArchiveCopies);
  if (!ids.ok()) return SendError(c.res, 400, ids.status().message());
  c.copy_ids = *ids;
  c.detail = "mbox";
  // Every copy must exist before the first byte goes out.
  std::vector<CopyMeta> metas;
  for (CopyId id : *ids) {
    auto meta = store.Get(id);
    if (!meta.ok()) return SendCopyError(c.res, id, meta.status());
    metas.push_back(std::move(*meta));
  }
  if (!AuditBeforeSending(c, "save")) return;
  c.res.set_header("Content-Disposition", "attachment; filename=\"mailvault-" +
                                              std::to_string(metas.size()) + "-copies.mbox\"");
  Store* s = &store;
  c.res.set_chunked_content_provider(
      "application/mbox", [s, metas = std::move(metas)](size_t, httplib::DataSink& sink) {
        for (const CopyMeta& m : metas) {
          // mboxrd quoting works line by line over the whole message, so
          // each copy is read whole (one at a time).
          auto raw = s->Read(m.id);
          if (!raw.ok()) {
            spdlog::error("console: archive, copy {}: {}", m.id, raw.status().ToString());
            return false;
          }
          std::string out;
          AppendMboxrd(&out, m.mail_from, m.received_at, *raw);
          if (!sink.write(out.data(), out.size())) return false;
        }
        sink.done();
        return true;
      });
}

void ConsoleServer::Impl::DeleteCopies(Call& c) {
  json body = json::parse(c.req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("ids") || !body["ids"].is_array()) {
    return SendError(c.res, 400, "send {\"ids\": [N, ...]}");
  }
  std::vector<CopyId> ids;
  for (const json& v : body["ids"]) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0) {
      return SendError(c.res, 400, "ids must be positive integers");
    }
    if (std::find(ids.begin(), ids.end(), v.get<uint64_t>()) == ids.end()) {
      ids.push_back(v.get<uint64_t>());
    }
  }
  if (ids.empty()) return SendError(c.res, 400, "ids: give at least one copy id");
  if (ids.size() > kMaxDeleteCopies) {
    return SendError(c.res, 400, "at most " + std::to_string(kMaxDeleteCopies) + " at once");
  }
  c.copy_ids = ids;
  Status s = store.Delete(ids);
  if (!s.ok() && s.code() != Code::kNotFound) return SendStatus(c.res, s);
  if (!s.ok()) c.detail = s.message();  // some were already gone; the rest are deleted
  spdlog::info("console: {} deleted {} copies", c.who.account, ids.size());
  SendJson(c.res, 200,
           {{"message", "Marked messages have been deleted"},
            {"deleted", ids.size()},
            {"not_found", s.ok() ? json(nullptr) : json(s.message())}});
}

}  // namespace mailvault::console
