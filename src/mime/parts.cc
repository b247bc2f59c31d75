// WalkParts, RemoveParts and HeaderFromAddresses (see parts.h).
//
// Design notes.
// - The message is read through a source stream (source_stream.h) with
//   persist_stream on: GMime keeps part contents as substreams and reads them
//   back from the ByteSource when a part is decoded, measured or written out.
// - Parse budget: GMime builds the whole tree with no limits of its own, so
//   a linear pre-scan (parse_budget.h, the same rules and budgets as
//   ExtractMetadata) finds the longest prefix within budgets and GMime
//   parses only that prefix. This costs one extra sequential read of the
//   source.
// - Numbering is one recursive walk used by both WalkParts and
//   RemoveParts, so indexes agree. It is capped in depth and entity count.
// - RemoveParts replaces GMime objects in the parsed tree and writes the
//   top-level entity's content only: unchanged parts are written from their
//   raw headers and raw (still encoded) content, so their decoded bytes are
//   the original ones. The output is then forced to CRLF line endings.
#include "mime/parts.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "mime/gmime_util.h"
#include "mime/source_stream.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr int kMaxDepth = 50;
constexpr int kMaxEntities = 10000;

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxFileName = 1024;
constexpr size_t kMaxType = 255;
constexpr size_t kMaxFromField = 64 * 1024;
constexpr size_t kMaxFromFields = 16;
constexpr size_t kMaxAddresses = 100;

struct Parsed {
  GRef<GMimeStream> stream;  // the top-level source stream (for its error)
  GRef<GMimeMessage> msg;    // may be null
  bool truncated = false;    // GMime saw only a prefix of the message
  bool headerless = false;   // unparsable: top() is the whole input as one part

  GMimeObject* top() const { return msg ? g_mime_message_get_mime_part(msg.get()) : nullptr; }
};

Result<Parsed> Parse(const ByteSource& raw) {
  GMimeParserOptions* options = ParserOptions();
  Status read_error;
  const uint64_t limit = BudgetLimit(raw, &read_error);
  MV_RETURN_IF_ERROR(read_error);
  Parsed p;
  p.truncated = limit < raw.size();
  p.stream.reset(NewSourceStream(raw, limit));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(p.stream.get()));
  g_mime_parser_set_persist_stream(parser.get(), TRUE);
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  p.msg.reset(g_mime_parser_construct_message(parser.get(), options));
  MV_RETURN_IF_ERROR(SourceStreamError(p.stream.get()));
  if (p.top() == nullptr && limit > 0) {
    // GMime gives up when the first line is not a header field. Scanners
    // must still see the bytes (an executable sent bare), so the whole input
    // becomes one undeclared part.
    if (!p.msg) p.msg.reset(g_mime_message_new(FALSE));
    GRef<GMimePart> part(g_mime_part_new_with_type("application", "octet-stream"));
    GRef<GMimeStream> content(g_mime_stream_substream(p.stream.get(), 0, -1));
    GRef<GMimeDataWrapper> wrapper(
        g_mime_data_wrapper_new_with_stream(content.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part.get(), wrapper.get());
    g_mime_message_set_mime_part(p.msg.get(), GMIME_OBJECT(part.get()));
    p.headerless = true;
  }
  return p;
}

// One MIME entity as numbered. `container` holds `obj`: a GMimeMultipart
// (at child `slot`), a GMimeMessage (the inner message of an attached
// message part) or null for the top-level entity.
struct Node {
  GMimeObject* obj = nullptr;
  int index = 0;
  int depth = 0;
  int parent = -1;  // index of the enclosing entity
  GMimeObject* container = nullptr;
  int slot = 0;
};

// Numbers the tree under `top` depth-first, calling `f` for every entity
// until it returns false. Sets summary->truncated if a cap stopped it.
class Numbering {
 public:
  Numbering(const std::function<bool(const Node&)>& f, WalkSummary* summary)
      : f_(f), summary_(summary) {}

  void Run(GMimeObject* top) {
    if (top != nullptr) Visit(top, 0, -1, nullptr, 0);
  }

 private:
  // False to stop the whole walk.
  bool Visit(GMimeObject* obj, int depth, int parent, GMimeObject* container, int slot) {
    if (obj == nullptr) return true;
    if (depth > kMaxDepth) {  // skip the subtree, go on with its siblings
      summary_->truncated = true;
      return true;
    }
    if (summary_->entities >= kMaxEntities) {
      summary_->truncated = true;
      return false;
    }
    Node node{obj, summary_->entities++, depth, parent, container, slot};
    if (!f_(node)) return false;
    if (GMIME_IS_MULTIPART(obj)) {
      auto* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) {
        if (!Visit(g_mime_multipart_get_part(mp, i), depth + 1, node.index, obj, i)) return false;
      }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner != nullptr) {
        return Visit(g_mime_message_get_mime_part(inner), depth + 1, node.index,
                     GMIME_OBJECT(inner), 0);
      }
    }
    return true;
  }

  const std::function<bool(const Node&)>& f_;
  WalkSummary* summary_;
};

std::string FileName(GMimeObject* obj) {
  return CleanText(
      View(GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj))
                              : g_mime_object_get_content_disposition_parameter(obj, "filename")),
      kMaxFileName);
}

std::string ContentType(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct == nullptr) return "text/plain";
  GChars type(g_mime_content_type_get_mime_type(ct));
  return CleanText(AsciiLower(View(type.get())), kMaxType);
}

Part MakePart(const Node& node) {
  GMimeObject* obj = node.obj;
  Part p;
  p.index = node.index;
  p.depth = node.depth;
  p.content_type = ContentType(obj);
  p.filename = FileName(obj);
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct != nullptr) {
    std::string name = CleanText(View(g_mime_content_type_get_parameter(ct, "name")), kMaxFileName);
    if (name != p.filename) p.alt_filename = std::move(name);
  }
  GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(obj);
  p.attachment = !p.filename.empty() || !p.alt_filename.empty() ||
                 (disposition != nullptr && g_mime_content_disposition_is_attachment(disposition));
  if (GMIME_IS_PART(obj)) p.size = DecodedSize(GMIME_PART(obj));
  return p;
}

}  // namespace

struct PartBody::Impl {
  GMimePart* part;
  GMimeStream* top;  // for the source's error

  // Streams decoded content to `sink`, at most `max` bytes.
  Status Read(uint64_t max, const std::function<Status(std::string_view)>& sink) const {
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
    std::string buf(kChunk, '\0');
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

Status WalkParts(const ByteSource& raw, const PartVisitor& visit, WalkSummary* summary) {
  WalkSummary local;
  WalkSummary* s = summary != nullptr ? summary : &local;
  *s = WalkSummary();
  MV_ASSIGN_OR_RETURN(Parsed parsed, Parse(raw));
  s->truncated = parsed.truncated;
  Status status;
  std::function<bool(const Node&)> f = [&](const Node& node) {
    if (!GMIME_IS_PART(node.obj)) return true;
    Part part = MakePart(node);
    status = SourceStreamError(parsed.stream.get());
    if (!status.ok()) return false;
    PartBody::Impl impl{GMIME_PART(node.obj), parsed.stream.get()};
    status = visit(part, PartBody(&impl));
    return status.ok();
  };
  Numbering(f, s).Run(parsed.top());
  return status;
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

}  // namespace

Result<Rewrite> RemoveParts(const ByteSource& raw, const std::vector<int>& parts,
                            std::string_view note) {
  for (int i : parts) {
    if (i < 0) return Status::InvalidArgument("no MIME part " + std::to_string(i));
  }
  MV_ASSIGN_OR_RETURN(Parsed parsed, Parse(raw));
  if (parsed.truncated) {
    return Status::InvalidArgument("message exceeds the MIME parser's limits; not rewritten");
  }
  GMimeObject* top = parsed.top();
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
  if (top == nullptr || parsed.headerless) {
    // Nothing but part 0 can be named, and GMime cannot say where the body
    // starts, so there is nothing it could write back.
    return Status::InvalidArgument("message has no MIME structure; only part 0 can be removed");
  }

  std::vector<Node> nodes;
  WalkSummary summary;
  std::function<bool(const Node&)> collect = [&](const Node& node) {
    nodes.push_back(node);
    return true;
  };
  Numbering(collect, &summary).Run(top);
  std::unordered_set<int> listed(parts.begin(), parts.end());
  for (int i : listed) {
    if (i >= static_cast<int>(nodes.size())) {
      return Status::InvalidArgument("no MIME part " + std::to_string(i));
    }
  }
  const std::string type_before = HeaderValue(top, "Content-Type");
  for (const Node& node : nodes) {
    if (listed.count(node.index) == 0) continue;
    bool inside_removed = false;
    for (int p = node.parent; p >= 0 && !inside_removed; p = nodes[static_cast<size_t>(p)].parent) {
      inside_removed = listed.count(p) != 0;
    }
    if (inside_removed) continue;
    GRef<GMimeObject> replacement = NotePart(ExpandNote(note, NoteName(node.obj)));
    if (GMIME_IS_MULTIPART(node.container)) {
      GMimeObject* old =
          g_mime_multipart_replace(GMIME_MULTIPART(node.container), node.slot, replacement.get());
      if (old != nullptr) g_object_unref(old);
    } else if (GMIME_IS_MESSAGE(node.container)) {
      g_mime_message_set_mime_part(GMIME_MESSAGE(node.container), replacement.get());
    }
  }
  MV_ASSIGN_OR_RETURN(rewrite.body, WriteContent(top, parsed.stream.get()));
  // Writing a multipart without a boundary makes GMime invent one.
  std::string type_after = HeaderValue(top, "Content-Type");
  if (type_after != type_before) rewrite.header_changes.emplace_back("Content-Type", type_after);
  return rewrite;
}

namespace {

// Collects the values of the From fields of a header block fed line by line.
class FromFields {
 public:
  // False at the end of the header block.
  bool Line(std::string_view line) {
    if (line == "\n" || line == "\r\n") return false;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (in_from_) Append(line);
      return true;
    }
    in_from_ = false;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (AsciiLower(name) == "from" && fields_.size() < kMaxFromFields) {
      in_from_ = true;
      fields_.emplace_back();
      Append(line.substr(colon + 1));
    }
    return true;
  }
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  void Append(std::string_view text) {
    std::string& f = fields_.back();
    for (char c : text) {
      if (f.size() >= kMaxFromField) break;
      f.push_back(c == '\r' || c == '\n' ? ' ' : c);
    }
  }

  bool in_from_ = false;
  std::vector<std::string> fields_;
};

}  // namespace

Result<std::vector<std::string>> HeaderFromAddresses(const ByteSource& raw) {
  GMimeParserOptions* options = ParserOptions();
  FromFields from;
  // Lines are reassembled across reads, keeping what FromFields looks at: a
  // field name (a few bytes) or, inside a From field, up to its cap.
  std::string line;
  uint64_t line_len = 0;
  bool done = false;
  std::string buf;
  for (uint64_t off = 0; off < raw.size() && !done;) {
    buf.clear();
    MV_RETURN_IF_ERROR(raw.ReadAt(off, kChunk, &buf));
    if (buf.empty()) return Status::IOError("message source ended early");
    off += buf.size();
    std::string_view piece = buf;
    while (!piece.empty() && !done) {
      size_t nl = piece.find('\n');
      size_t take = nl == std::string_view::npos ? piece.size() : nl + 1;
      // Enough for a field name and colon; From fields are capped by FromFields.
      size_t cap = kMaxFromField + 256;
      if (line.size() < cap) line.append(piece.data(), std::min(take, cap - line.size()));
      line_len += take;
      piece.remove_prefix(take);
      if (nl == std::string_view::npos) continue;
      done = !from.Line(line);
      line.clear();
      line_len = 0;
    }
  }
  if (!done && line_len > 0) from.Line(line);
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const std::string& field : from.fields()) {
    GRef<InternetAddressList> list(internet_address_list_parse(options, field.c_str()));
    CollectAddresses(list.get(), kMaxAddresses, &out, &seen);
  }
  return out;
}

}  // namespace mailvault::mime
