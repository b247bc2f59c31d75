// WalkParts, RemoveParts (one-shot ParsedMessage) and HeaderFromAddresses
// (see parts.h).
#include "mime/parts.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "mime/gmime_util.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxFromField = 64 * 1024;
constexpr size_t kMaxFromFields = 16;
constexpr size_t kMaxAddresses = 100;

}  // namespace

Status WalkParts(const ByteSource& raw, const PartVisitor& visit, WalkSummary* summary) {
  std::unique_ptr<ParsedMessage> parsed = ParsedMessage::Parse(raw);
  if (summary != nullptr) *summary = parsed->summary();
  return parsed->Walk(visit);
}

Result<Rewrite> RemoveParts(const ByteSource& raw, const std::vector<int>& parts,
                            std::string_view note) {
  return ParsedMessage::Parse(raw)->RemoveParts(parts, note);
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
