// ContentFilterEngine (see content_filter.h).
#include "scan/content_filter.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "mime/parsed_message.h"
#include "mime/text.h"

namespace mailvault::scan {
namespace {

constexpr size_t kMagicHead = 64 * 1024;
constexpr size_t kMaxListed = 20;  // items per details key
constexpr size_t kMaxPattern = 255;

// A details value: distinct items, at most kMaxListed shown.
class List {
 public:
  void Add(std::string item) {
    if (std::find(items_.begin(), items_.end(), item) != items_.end()) return;
    if (items_.size() < kMaxListed) {
      items_.push_back(std::move(item));
    } else {
      ++more_;
    }
  }
  bool empty() const { return items_.empty(); }
  std::string Join() const {
    std::string out;
    for (const std::string& s : items_) out += (out.empty() ? "" : ", ") + s;
    if (more_ > 0) out += " and " + std::to_string(more_) + " more";
    return out;
  }

 private:
  std::vector<std::string> items_;
  size_t more_ = 0;
};

std::string_view BaseName(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

bool Glob(const std::string& pattern, const std::string& lower) {
  return fnmatch(pattern.c_str(), lower.c_str(), 0) == 0;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// The message's own text (mime::Part::text, the attachment rule's text/plain
// or text/html without a name or attachment disposition), which a mail
// client shows as the message and never saves or opens as a file by itself.
// Its format is not identified: with the text formats in banned_formats
// (batch files, scripts) libmagic's text tests run, and they cost ~6 ms per
// 20 KB of text, on every message; a program in such a part shows as text and
// cannot be run from it. Anything else is identified as usual.
bool IsMessageText(const mime::Part& p) { return p.text; }

// What a finding in `p` removes: the attachment it is or belongs to (a part
// of an attached message removes the attached message), so the parts a
// verdict names are always attachments the console lists.
int Removes(const mime::Part& p) { return p.attachment_index >= 0 ? p.attachment_index : p.index; }

std::string Shown(const mime::Part& p) {
  if (!p.filename.empty()) return p.filename;
  if (!p.alt_filename.empty()) return p.alt_filename;
  return "part " + std::to_string(p.index) + " (" + p.content_type + ")";
}

}  // namespace

Result<std::string> ParseBannedName(std::string_view glob) {
  std::string g = mime::AsciiLower(Trim(glob));
  if (g.empty() || g.size() > kMaxPattern || g.find('/') != std::string::npos || HasControl(g)) {
    return Status::InvalidArgument("\"" + std::string(glob) + "\" is not a file name glob");
  }
  return g;
}

Result<std::string> ParseBannedFormat(std::string_view format) {
  std::string f = mime::AsciiLower(Trim(format));
  size_t slash = f.find('/');
  if (slash == 0 || slash == std::string::npos || slash + 1 == f.size() || f.size() > kMaxPattern ||
      f.find_first_of(" \t") != std::string::npos || HasControl(f)) {
    return Status::InvalidArgument("\"" + std::string(format) +
                                   "\" is not a MIME type (type/subtype)");
  }
  return f;
}

Status CheckContentOptions(const ContentOptions& options) {
  for (const std::string& g : options.banned_names) {
    MV_RETURN_IF_ERROR(ParseBannedName(g).status().Annotate("engines.content.banned_names"));
  }
  for (const std::string& f : options.banned_formats) {
    MV_RETURN_IF_ERROR(ParseBannedFormat(f).status().Annotate("engines.content.banned_formats"));
  }
  return Status::Ok();
}

Result<std::unique_ptr<ContentFilterEngine>> ContentFilterEngine::Make(
    const ContentOptions& options) {
  MV_RETURN_IF_ERROR(CheckContentOptions(options));
  ContentOptions o = options;
  for (std::string& g : o.banned_names) g = *ParseBannedName(g);
  for (std::string& f : o.banned_formats) f = *ParseBannedFormat(f);
  // libmagic's text tests are most of its cost; they are needed only when a
  // banned format is a text format.
  bool text_checks = std::any_of(o.banned_formats.begin(), o.banned_formats.end(),
                                 [](const std::string& f) { return f.starts_with("text/"); });
  MV_ASSIGN_OR_RETURN(std::unique_ptr<MagicPool> magic, MagicPool::Open(text_checks));
  return std::unique_ptr<ContentFilterEngine>(
      new ContentFilterEngine(std::move(o), std::move(magic)));
}

bool ContentFilterEngine::BannedName(std::string_view name) const {
  std::string base = mime::AsciiLower(BaseName(name));
  std::string trimmed = base;
  while (!trimmed.empty() && (trimmed.back() == '.' || trimmed.back() == ' ')) trimmed.pop_back();
  for (const std::string& g : options_.banned_names) {
    if (Glob(g, base) || (!trimmed.empty() && Glob(g, trimmed))) return true;
  }
  return false;
}

bool ContentFilterEngine::BannedFormat(std::string_view type) const {
  std::string lower = mime::AsciiLower(type);
  for (const std::string& f : options_.banned_formats) {
    if (Glob(f, lower)) return true;
  }
  return false;
}

std::vector<Verdict> ContentFilterEngine::Scan(const Message& message) {
  Verdict v;
  v.engine = "content-filtering";
  const uint64_t size = message.raw.size();
  if (options_.max_message_size > 0 && size > options_.max_message_size) {
    v.label = "size-exceeded";
    v.detail = "message of " + std::to_string(size) + " bytes exceeds the limit of " +
               std::to_string(options_.max_message_size) + " bytes";
    v.details["size"] = std::to_string(size);
    v.details["max_message_size"] = std::to_string(options_.max_message_size);
    return {v};
  }

  List names, formats, encrypted, not_opened, problems;
  std::set<int> name_parts, format_parts;
  auto visit = [&](const mime::Part& p, const mime::PartBody& body) -> Status {
    const std::string shown = Shown(p);
    for (const std::string* n : {&p.filename, &p.alt_filename}) {
      if (!n->empty() && BannedName(*n)) {
        names.Add(*n);
        name_parts.insert(Removes(p));
      }
    }
    if (p.message) {
      // An attached message has no content of its own to identify (its
      // parts are looked at next): it is what it is declared as.
      if (BannedFormat(p.content_type)) {
        formats.Add(p.content_type + " (" + shown + ")");
        format_parts.insert(Removes(p));
      }
      return Status::Ok();
    }
    if (IsMessageText(p)) return Status::Ok();
    MV_ASSIGN_OR_RETURN(std::string head, body.Head(kMagicHead));
    if (head.empty()) return Status::Ok();
    Result<std::string> type = magic_->MimeType(head);
    if (!type.ok()) {
      problems.Add(shown + ": " + type.status().message());
      return Status::Ok();
    }
    if (BannedFormat(*type)) {
      formats.Add(*type + " (" + shown + ")");
      format_parts.insert(Removes(p));
    }
    if (!IsArchiveType(*type)) return Status::Ok();
    const uint64_t cap = options_.max_archive_size;
    if (cap == 0) {
      not_opened.Add(shown);
      return Status::Ok();
    }
    std::string bytes;
    bool too_big = false;
    Status read = body.Read([&](std::string_view piece) {
      if (bytes.size() + piece.size() > cap) {
        too_big = true;
        return Status::Unavailable("archive too large");
      }
      bytes.append(piece);
      return Status::Ok();
    });
    if (too_big) {
      not_opened.Add(shown);
      return Status::Ok();
    }
    MV_RETURN_IF_ERROR(read);
    ArchiveListing listing = ListArchive(bytes);
    bool marked = false;
    for (const ArchiveEntry& e : listing.entries) {
      if (e.encrypted) {
        encrypted.Add(e.name + " (in " + shown + ")");
        marked = true;
      }
      if (BannedName(e.name)) {
        names.Add(e.name + " (in " + shown + ")");
        name_parts.insert(Removes(p));
      }
    }
    if (listing.encrypted && !marked) encrypted.Add(shown);
    if (!listing.error.empty()) problems.Add(shown + ": " + listing.error);
    if (listing.truncated) problems.Add(shown + ": too many entries, listing stopped");
    return Status::Ok();
  };
  // The milter hands over the message it parsed; a caller without one has
  // it parsed here.
  std::unique_ptr<mime::ParsedMessage> own;
  const mime::ParsedMessage* parsed = message.parsed;
  if (parsed == nullptr) {
    own = mime::ParsedMessage::Parse(message.raw);
    parsed = own.get();
  }
  const mime::WalkSummary& summary = parsed->summary();
  Status walked = parsed->Walk(visit);

  std::set<int> all = name_parts;
  all.insert(format_parts.begin(), format_parts.end());
  v.parts.assign(all.begin(), all.end());
  if (!format_parts.empty()) {
    v.label = "banned-file-format";
  } else if (!name_parts.empty()) {
    v.label = "banned-file-name";
  }
  if (!formats.empty()) {
    v.details["formats"] = formats.Join();
    v.detail = "banned file format: " + formats.Join();
  }
  if (!names.empty()) {
    v.details["names"] = names.Join();
    v.detail += (v.detail.empty() ? "" : "; ") + std::string("banned file name: ") + names.Join();
  }
  if (!encrypted.empty()) v.details["encrypted"] = encrypted.Join();
  if (!not_opened.empty()) v.details["archives_not_opened"] = not_opened.Join();
  if (!problems.empty()) v.details["problems"] = problems.Join();
  if (summary.truncated) {
    v.details["partial"] = "the message exceeds the MIME parser's limits; later parts not scanned";
  }
  if (!walked.ok()) {
    if (v.label.empty()) {
      v.label = "not-scanned";
      v.error = walked.ToString();
    } else {
      v.details["error"] = walked.ToString();
    }
  }
  return {v};
}

}  // namespace mailvault::scan
