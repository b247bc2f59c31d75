// The copies: search, view, text and HTML preview, .eml and archive
// downloads, delete.
#include <spdlog/spdlog.h>

#include <cctype>
#include <string>
#include <string_view>

#include "base/mbox.h"
#include "console/query_params.h"
#include "console/server_impl.h"
#include "directory/accounts_db.h"
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

// For a personal user: the HTML view is shown when Preview is on and the
// copy's Anti-Virus status allows it (the caller checks the message has
// HTML).
bool PersonalHtmlAllowed(const Call& c, const CopyMeta& meta) {
  return c.personal.preview && directory::HtmlPreviewAllowed(meta);
}

// A copy as a personal user may see it: the envelope recipients and the
// Bcc list hold only the user's own mailboxes (the other recipients of a
// message, and above all its blind copies, are not theirs to see). Other
// principals see the copy as it is.
CopyMeta ForPrincipal(const Principal& who, CopyMeta m) {
  if (!who.personal) return m;
  std::vector<std::string> mine;
  for (const std::string& r : m.rcpt) {
    if (!VisibleThrough(who, {r}).empty()) mine.push_back(r);
  }
  const std::string bcc = index::LowerAscii(m.bcc);
  std::string own_bcc;
  for (const std::string& r : mine) {
    if (bcc.find(index::LowerAscii(r)) != std::string::npos) {
      own_bcc += (own_bcc.empty() ? "" : ", ") + r;
    }
  }
  m.rcpt = std::move(mine);
  m.bcc = std::move(own_bcc);
  return m;
}

}  // namespace

void ConsoleServer::Impl::SearchCopies(Call& c) {
  auto query = ParseCopiesQuery(c.req.params, env.NowMicros());
  if (!query.ok()) return SendError(c.res, 400, query.status().message());
  // mailbox=ADDRESS: the copies whose envelope recipients include it. For a
  // personal user it must be one of theirs; without it, all of theirs.
  const std::string mailbox = c.req.get_param_value("mailbox");
  if (c.who.personal) {
    std::vector<std::string> scope;
    for (const directory::Mailbox& m : c.who.mailboxes) {
      if (mailbox.empty() || index::LowerAscii(mailbox) == m.address) scope.push_back(m.address);
    }
    if (!mailbox.empty() && scope.empty()) {
      return SendError(c.res, 403, "the mailbox " + mailbox + " is not one of yours");
    }
    query->recipients = std::move(scope);  // none: an empty set, which matches nothing
  } else if (!mailbox.empty()) {
    query->recipients = std::vector<std::string>{mailbox};
  }
  auto page = store.Search(*query);
  if (!page.ok()) return SendStatus(c.res, page.status());
  json items = json::array();
  for (const CopyMeta& m : page->items) items.push_back(CopyToJson(ForPrincipal(c.who, m)));
  SendJson(c.res, 200,
           {{"items", std::move(items)}, {"next", page->next ? json(*page->next) : json(nullptr)}});
}

void ConsoleServer::Impl::GetCopy(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  auto meta = store.Get(*id);
  if (!meta.ok()) return SendCopyError(c.res, *id, meta.status());
  if (!CheckVisible(c, *meta)) return;
  json out = CopyToJson(ForPrincipal(c.who, *meta));
  // The same message kept twice (a retry after a lost end-of-message
  // reply, docs/intake.md): every role that may view this copy may view
  // those; a personal user only those addressed to them too. A failed
  // lookup only loses the hint.
  auto dups = store.PossibleDuplicates(*id);
  json dup_ids = json::array();
  if (dups.ok()) {
    for (CopyId d : *dups) {
      if (c.who.personal) {
        auto other = store.Get(d);
        if (!other.ok() || VisibleThrough(c.who, other->rcpt).empty()) continue;
      }
      dup_ids.push_back(d);
    }
  }
  out["possible_duplicates"] = std::move(dup_ids);
  if (c.who.personal) {
    // What this user may do with this copy (the console shows only these).
    out["personal"] = {
        {"mailboxes", VisibleThrough(c.who, meta->rcpt)},
        {"html_allowed", settings.policy().html_preview && PersonalHtmlAllowed(c, *meta)},
        {"no_threat", directory::NoThreatFound(*meta)}};
  }
  SendJson(c.res, 200, out);
}

void ConsoleServer::Impl::GetText(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  c.detail = "text";
  bool html_allowed = settings.policy().html_preview;
  if (c.who.personal) {
    auto meta = store.Get(*id);
    if (!meta.ok()) return SendCopyError(c.res, *id, meta.status());
    if (!CheckVisible(c, *meta)) return;
    html_allowed = html_allowed && PersonalHtmlAllowed(c, *meta);
  }
  auto raw = store.Read(*id);
  if (!raw.ok()) return SendCopyError(c.res, *id, raw.status());
  auto text = preview::MakeTextPreview(*raw, options.preview);
  if (!text.ok()) return SendCopyError(c.res, *id, text.status());
  SendJson(c.res, 200,
           {{"text", text->text},
            {"truncated", text->truncated},
            {"has_html", text->has_html},
            {"html_allowed", html_allowed && text->has_html}});
}

void ConsoleServer::Impl::GetHtml(Call& c) {
  auto id = PathId(c.req);
  if (!id.ok()) return SendStatus(c.res, id.status());
  c.copy_ids = {*id};
  c.detail = "html";
  if (!settings.policy().html_preview) {
    return SendError(c.res, 403, "the HTML preview is turned off (setting html_preview)");
  }
  if (c.who.personal) {
    auto meta = store.Get(*id);
    if (!meta.ok()) return SendCopyError(c.res, *id, meta.status());
    if (!CheckVisible(c, *meta)) return;
    if (!PersonalHtmlAllowed(c, *meta)) {
      return SendError(c.res, 403,
                       "the HTML view is not shown for this copy (its Anti-Virus status); the "
                       "plain text is");
    }
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
  if (!CheckVisible(c, *meta)) return;
  if (c.who.personal && !directory::NoThreatFound(*meta)) {
    return SendError(c.res, 403,
                     "copy " + std::to_string(*id) +
                         " carries a threat label: it cannot be saved from the "
                         "personal Backup");
  }
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
    if (!CheckVisible(c, *meta)) return;
    if (c.who.personal && !directory::NoThreatFound(*meta)) {
      return SendError(c.res, 403,
                       "copy " + std::to_string(id) +
                           " carries a threat label: it cannot be saved from the "
                           "personal Backup");
    }
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
  if (c.who.personal) {
    // All or nothing: one copy that is not the user's (or is gone) refuses
    // the whole request before anything is deleted.
    for (CopyId id : ids) {
      auto meta = store.Get(id);
      if (!meta.ok()) return SendCopyError(c.res, id, meta.status());
      if (!CheckVisible(c, *meta)) return;
    }
  }
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
