// ParsedMessage (see parsed_message.h): the one parse and the one walk.
//
// Design notes.
// - One sequential pass over the source before GMime sees it feeds both the
//   parse budget (parse_budget.h: GMime builds the whole tree with no limits
//   of its own, so it parses only the prefix within budgets) and the
//   address-header scan (gmime_util.h: GMime parses every address header as
//   it builds the tree and leaks on some unbalanced ones). GMime then reads
//   that prefix through a source stream (source_stream.h, one small
//   read-ahead buffer, no copy of the message) with persist_stream on, so
//   part contents stay substreams read back from the source when asked for.
// - The guard's blanked delimiters are for GMime's header parser only: once
//   the tree is built the stream is switched to the source itself, so part
//   contents (scanned, previewed, written back by RemoveParts) are the bytes
//   received.
// - Numbering runs once, at parse time, and records per entity where it
//   sits (container, slot), which attachment holds it (the rule in
//   attachment_rule.h, asked once per entity outside attachments) and which
//   multipart/alternative. Walk, Attachments and RemoveParts all read that
//   list, so indexes and the attachment set agree everywhere.
// - RemoveParts swaps note parts into the tree, writes the top-level
//   entity's content (unchanged parts from their raw headers and raw, still
//   encoded content, so their decoded bytes are the original ones) and swaps
//   the originals back.
#include "mime/parsed_message.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <unordered_set>

#include "mime/attachment_rule.h"
#include "mime/parse_budget.h"
#include "mime/parsed_message_impl.h"
#include "mime/source_stream.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr int kMaxDepth = 50;
constexpr int kMaxEntities = 10000;
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxFileName = 1024;
constexpr size_t kMaxType = 255;
constexpr size_t kMaxCharset = 64;
constexpr size_t kMaxContentId = 998;

std::atomic<uint64_t> g_parses{0};

std::string ContentType(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct == nullptr) return "text/plain";
  GChars type(g_mime_content_type_get_mime_type(ct));
  return CleanText(AsciiLower(View(type.get())), kMaxType);
}

std::string FileName(GMimeObject* obj) {
  return CleanText(
      View(GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj))
                              : g_mime_object_get_content_disposition_parameter(obj, "filename")),
      kMaxFileName);
}

std::string ContentId(GMimeObject* obj) {
  std::string_view id = View(g_mime_object_get_content_id(obj));
  // GMime finds no id in "Content-ID: image001.png@01D9" (no angle brackets),
  // which mailers do send; take the header as it is then.
  if (id.empty()) id = View(g_mime_object_get_header(obj, "Content-Id"));
  std::string out = CleanText(id, kMaxContentId);
  if (!out.empty() && out.front() == '<') out.erase(0, 1);
  if (!out.empty() && out.back() == '>') out.pop_back();
  return out;
}

// Numbers the tree depth-first into impl->entities (capped in depth and
// count; summary.truncated when a cap stops it).
class Numbering {
 public:
  explicit Numbering(ParsedMessage::Impl* impl) : impl_(impl) {}

  void Run(GMimeObject* top) {
    if (top != nullptr) Visit(top, 0, -1, nullptr, 0, -1, -1);
  }

 private:
  // False to stop the whole walk.
  bool Visit(GMimeObject* obj, int depth, int parent, GMimeObject* container, int slot,
             int attachment, int alternative) {
    if (obj == nullptr) return true;
    WalkSummary& summary = impl_->summary;
    if (depth > kMaxDepth) {  // skip the subtree, go on with its siblings
      summary.truncated = true;
      return true;
    }
    if (summary.entities >= kMaxEntities) {
      summary.truncated = true;
      return false;
    }
    const int index = summary.entities++;
    if (attachment < 0 && AttachmentOf(obj, /*measure=*/false)) attachment = index;
    const bool multipart = GMIME_IS_MULTIPART(obj);
    if (multipart && alternative < 0 && ContentType(obj) == "multipart/alternative") {
      alternative = index;
    }
    impl_->entities.push_back(
        Entity{obj, index, depth, parent, container, slot, attachment, alternative});
    if (multipart) {
      auto* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) {
        if (!Visit(g_mime_multipart_get_part(mp, i), depth + 1, index, obj, i, attachment,
                   alternative)) {
          return false;
        }
      }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner != nullptr) {
        return Visit(g_mime_message_get_mime_part(inner), depth + 1, index, GMIME_OBJECT(inner), 0,
                     attachment, alternative);
      }
    }
    return true;
  }

  ParsedMessage::Impl* impl_;
};

Part MakePart(const Entity& e) {
  GMimeObject* obj = e.obj;
  Part p;
  p.index = e.index;
  p.depth = e.depth;
  p.attachment_index = e.attachment;
  p.alternative = e.alternative;
  p.message = GMIME_IS_MESSAGE_PART(obj);
  p.content_type = ContentType(obj);
  p.filename = FileName(obj);
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct != nullptr) {
    std::string name = CleanText(View(g_mime_content_type_get_parameter(ct, "name")), kMaxFileName);
    if (name != p.filename) p.alt_filename = std::move(name);
    p.charset = CleanText(View(g_mime_content_type_get_parameter(ct, "charset")), kMaxCharset);
  }
  if (GMIME_IS_PART(obj)) {
    p.content_id = ContentId(obj);
    p.text = e.attachment < 0 || !AttachmentOf(obj, /*measure=*/false);
  }
  if (e.attachment == e.index) {
    std::optional<Attachment> a = AttachmentOf(obj);
    p.attachment = true;
    if (p.filename.empty() && !a->name.empty()) {
      p.filename = std::move(a->name);
      if (p.alt_filename == p.filename) p.alt_filename.clear();
    }
    p.size = a->size;
  }
  return p;
}

}  // namespace

Status ParsedMessage::Impl::error() const {
  if (!read_error.ok()) return read_error;
  return stream ? SourceStreamError(stream.get()) : Status::Ok();
}

ParsedMessage::ParsedMessage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParsedMessage::~ParsedMessage() {
  if (!impl_) return;
  // The tree reads from the stream, the stream from the guard: in that order.
  impl_->entities.clear();
  impl_->msg.reset();
  impl_->stream.reset();
  impl_->guard.reset();
}

std::unique_ptr<ParsedMessage> ParsedMessage::Parse(const ByteSource& raw) {
  g_parses.fetch_add(1, std::memory_order_relaxed);
  GMimeParserOptions* options = ParserOptions();
  auto impl = std::make_unique<Impl>();
  impl->raw = &raw;

  ParseBudget budget;
  AddressHeaderScan scan;
  bool open = true;
  // A sink error only stops the read once the budget is spent.
  Status s = ForEachChunk(raw, kChunk, [&](std::string_view piece) {
    scan.Feed(piece);
    open = budget.Feed(piece);
    return open ? Status::Ok() : Status::Unavailable("budget spent");
  });
  impl->read_error = open ? s : Status::Ok();
  budget.Finish();
  const uint64_t limit = budget.limit();
  impl->summary.truncated = limit < raw.size();

  std::vector<uint64_t> patches = scan.Finish();
  const ByteSource* parse_from = &raw;
  if (!patches.empty()) {
    impl->guard = std::make_unique<AddressHeaderGuard>(raw, std::move(patches));
    parse_from = impl->guard.get();
  }
  impl->stream.reset(NewSourceStream(*parse_from, limit));
  {
    GRef<GMimeParser> parser(g_mime_parser_new_with_stream(impl->stream.get()));
    g_mime_parser_set_persist_stream(parser.get(), TRUE);
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    impl->msg.reset(g_mime_parser_construct_message(parser.get(), options));
  }
  if (impl->guard) SwitchSourceStream(impl->stream.get(), raw);
  if (impl->top() == nullptr && limit > 0 && impl->error().ok()) {
    // GMime gives up when the first line is not a header field. Scanners
    // must still see the bytes (an executable sent bare), so the whole input
    // becomes one undeclared part.
    if (!impl->msg) impl->msg.reset(g_mime_message_new(FALSE));
    GRef<GMimePart> part(g_mime_part_new_with_type("application", "octet-stream"));
    GRef<GMimeStream> content(g_mime_stream_substream(impl->stream.get(), 0, -1));
    GRef<GMimeDataWrapper> wrapper(
        g_mime_data_wrapper_new_with_stream(content.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part.get(), wrapper.get());
    g_mime_message_set_mime_part(impl->msg.get(), GMIME_OBJECT(part.get()));
    impl->headerless = true;
  }
  Numbering(impl.get()).Run(impl->top());
  return std::unique_ptr<ParsedMessage>(new ParsedMessage(std::move(impl)));
}

Status ParsedMessage::read_error() const { return impl_->error(); }
const WalkSummary& ParsedMessage::summary() const { return impl_->summary; }
bool ParsedMessage::headerless() const { return impl_->headerless; }

struct PartBody::Impl {
  GMimePart* part;   // null: no content (an attached message)
  GMimeStream* top;  // for the source's error

  // Streams decoded content to `sink`, at most `max` bytes.
  Status Read(uint64_t max, const std::function<Status(std::string_view)>& sink) const {
    if (part == nullptr) return Status::Ok();
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content == nullptr) return Status::Ok();
    GMimeStream* encoded = g_mime_data_wrapper_get_stream(content);
    if (encoded == nullptr) return Status::Ok();
    if (g_mime_stream_reset(encoded) != 0) return Status::Corruption("cannot rewind part");
    GRef<GMimeStream> filtered(g_mime_stream_filter_new(encoded));
    GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(content);
    if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
        enc == GMIME_CONTENT_ENCODING_UUENCODE) {
      GRef<GMimeFilter> decoder(g_mime_filter_basic_new(enc, FALSE));
      g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), decoder.get());
    }
    std::string buf(static_cast<size_t>(std::min<uint64_t>(kChunk, max)), '\0');
    uint64_t done = 0;
    // A filter may turn a whole read of junk into nothing: read() is 0 then
    // without eos. The source is finite, so this loop is too.
    while (done < max) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), max - done));
      ssize_t n = g_mime_stream_read(filtered.get(), buf.data(), want);
      if (n < 0) {
        MV_RETURN_IF_ERROR(SourceStreamError(top));
        return Status::Corruption("cannot decode part");
      }
      if (n == 0) {
        if (g_mime_stream_eos(filtered.get())) break;
        continue;
      }
      done += static_cast<uint64_t>(n);
      MV_RETURN_IF_ERROR(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
    }
    g_mime_stream_reset(encoded);
    return SourceStreamError(top);
  }
};

Status PartBody::Read(const std::function<Status(std::string_view)>& sink) const {
  return impl_->Read(UINT64_MAX, sink);
}

Result<std::string> PartBody::Head(size_t n) const {
  std::string out;
  MV_RETURN_IF_ERROR(impl_->Read(n, [&](std::string_view piece) {
    out.append(piece);
    return Status::Ok();
  }));
  return out;
}

Status ParsedMessage::Walk(const PartVisitor& visit) const {
  MV_RETURN_IF_ERROR(impl_->read_error);
  for (const Entity& e : impl_->entities) {
    const bool leaf = GMIME_IS_PART(e.obj);
    if (!leaf && !GMIME_IS_MESSAGE_PART(e.obj)) continue;
    Part part = MakePart(e);
    MV_RETURN_IF_ERROR(SourceStreamError(impl_->stream.get()));
    PartBody::Impl body{leaf ? GMIME_PART(e.obj) : nullptr, impl_->stream.get()};
    MV_RETURN_IF_ERROR(visit(part, PartBody(&body)));
  }
  return SourceStreamError(impl_->stream.get());
}

std::vector<Part> ParsedMessage::Attachments() const {
  std::vector<Part> out;
  for (const Entity& e : impl_->entities) {
    if (e.attachment == e.index) out.push_back(MakePart(e));
  }
  return out;
}

namespace {

std::string ExpandNote(std::string_view note, std::string_view filename) {
  static constexpr std::string_view kVar = "{filename}";
  std::string out;
  for (size_t pos = 0;;) {
    size_t at = note.find(kVar, pos);
    out.append(note.substr(pos, at - pos));
    if (at == std::string_view::npos) break;
    out.append(filename);
    pos = at + kVar.size();
  }
  return out;
}

// A new text/plain; charset=utf-8 part holding `text`, encoded for 7-bit
// transport.
GRef<GMimeObject> NotePart(std::string text) {
  if (text.empty() || text.back() != '\n') text += "\r\n";
  GMimeTextPart* part = g_mime_text_part_new_with_subtype("plain");
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
  // Not g_mime_text_part_set_text: it would pick Latin-1 when the text fits.
  std::string utf8 = IsValidUtf8(text) ? text : CleanText(text, text.size() * 2);
  GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(utf8.data(), utf8.size()));
  GRef<GMimeDataWrapper> wrapper(
      g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(part), wrapper.get());
  g_mime_part_set_content_encoding(
      GMIME_PART(part),
      g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
  return GRef<GMimeObject>(GMIME_OBJECT(part));
}

// The file name for {filename}: the part's, or its content type.
std::string NoteName(GMimeObject* obj) {
  if (obj == nullptr) return "message";
  std::string name = FileName(obj);
  return name.empty() ? ContentType(obj) : name;
}

// `obj`'s content (no headers) as written by GMime, CRLF line endings.
Result<std::string> WriteContent(GMimeObject* obj, GMimeStream* top_stream) {
  GMimeFormatOptions* format = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  GRef<GMimeStream> mem(g_mime_stream_mem_new());
  ssize_t n = g_mime_object_write_content_to_stream(obj, format, mem.get());
  g_mime_format_options_free(format);
  if (top_stream != nullptr) MV_RETURN_IF_ERROR(SourceStreamError(top_stream));
  if (n < 0) return Status::Corruption("cannot write the rewritten message");
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  std::string_view written(reinterpret_cast<const char*>(bytes->data), bytes->len);
  // Bare LF -> CRLF, whatever the parts held.
  std::string out;
  out.reserve(written.size() + written.size() / 32);
  for (size_t i = 0; i < written.size(); ++i) {
    if (written[i] == '\n' && (i == 0 || written[i - 1] != '\r')) out.push_back('\r');
    out.push_back(written[i]);
  }
  return out;
}

std::string HeaderValue(GMimeObject* obj, const char* name) {
  std::string v(View(g_mime_object_get_header(obj, name)));
  size_t b = v.find_first_not_of(" \t\r\n");
  size_t e = v.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
}

// Puts `replacement` where `e` sits; returns what to call to put `e` back.
std::function<void()> Swap(const Entity& e, GMimeObject* replacement) {
  if (GMIME_IS_MULTIPART(e.container)) {
    GMimeMultipart* mp = GMIME_MULTIPART(e.container);
    GMimeObject* old = g_mime_multipart_replace(mp, e.slot, replacement);  // our reference now
    return [mp, slot = e.slot, old] {
      GMimeObject* note = g_mime_multipart_replace(mp, slot, old);
      if (note != nullptr) g_object_unref(note);
      if (old != nullptr) g_object_unref(old);
    };
  }
  if (GMIME_IS_MESSAGE(e.container)) {
    GMimeMessage* msg = GMIME_MESSAGE(e.container);
    GMimeObject* old = g_mime_message_get_mime_part(msg);
    if (old != nullptr) g_object_ref(old);
    g_mime_message_set_mime_part(msg, replacement);
    return [msg, old] {
      g_mime_message_set_mime_part(msg, old);
      if (old != nullptr) g_object_unref(old);
    };
  }
  return [] {};
}

}  // namespace

Result<Rewrite> ParsedMessage::RemoveParts(const std::vector<int>& parts,
                                           std::string_view note) const {
  for (int i : parts) {
    if (i < 0) return Status::InvalidArgument("no MIME part " + std::to_string(i));
  }
  MV_RETURN_IF_ERROR(impl_->error());
  if (impl_->summary.truncated) {
    return Status::InvalidArgument("message exceeds the MIME parser's limits; not rewritten");
  }
  GMimeObject* top = impl_->top();
  Rewrite rewrite;
  if (std::find(parts.begin(), parts.end(), 0) != parts.end()) {
    GRef<GMimeObject> replacement = NotePart(ExpandNote(note, NoteName(top)));
    MV_ASSIGN_OR_RETURN(rewrite.body, WriteContent(replacement.get(), nullptr));
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(GMIME_PART(replacement.get()));
    rewrite.header_changes.emplace_back("Content-Type", "text/plain; charset=utf-8");
    rewrite.header_changes.emplace_back("Content-Transfer-Encoding",
                                        std::string(View(g_mime_content_encoding_to_string(enc))));
    if (top != nullptr && !HeaderValue(top, "Content-Disposition").empty()) {
      rewrite.header_changes.emplace_back("Content-Disposition", "");
    }
    return rewrite;
  }
  if (top == nullptr || impl_->headerless) {
    // Nothing but part 0 can be named, and GMime cannot say where the body
    // starts, so there is nothing it could write back.
    return Status::InvalidArgument("message has no MIME structure; only part 0 can be removed");
  }
  const std::vector<Entity>& nodes = impl_->entities;
  std::unordered_set<int> listed(parts.begin(), parts.end());
  for (int i : listed) {
    if (i >= static_cast<int>(nodes.size())) {
      return Status::InvalidArgument("no MIME part " + std::to_string(i));
    }
  }
  const std::string type_before = HeaderValue(top, "Content-Type");
  std::vector<std::function<void()>> undo;
  for (const Entity& node : nodes) {
    if (listed.count(node.index) == 0) continue;
    bool inside_removed = false;
    for (int p = node.parent; p >= 0 && !inside_removed; p = nodes[static_cast<size_t>(p)].parent) {
      inside_removed = listed.count(p) != 0;
    }
    if (inside_removed) continue;
    GRef<GMimeObject> replacement = NotePart(ExpandNote(note, NoteName(node.obj)));
    undo.push_back(Swap(node, replacement.get()));
  }
  Result<std::string> body = WriteContent(top, impl_->stream.get());
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)();
  MV_ASSIGN_OR_RETURN(rewrite.body, std::move(body));
  // Writing a multipart without a boundary makes GMime invent one.
  std::string type_after = HeaderValue(top, "Content-Type");
  if (type_after != type_before) rewrite.header_changes.emplace_back("Content-Type", type_after);
  return rewrite;
}

uint64_t ParseCount() { return g_parses.load(std::memory_order_relaxed); }

}  // namespace mailvault::mime
