// Row layout and search-pattern helpers (see row_codec.h). JSON goes
// through nlohmann::json's non-throwing parse and type checks: a damaged
// row is a Corruption value, never an exception.
#include "store/index/row_codec.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/utf8.h"

namespace mailvault::index {
namespace {

using nlohmann::json;

// Every string is valid UTF-8 by then (Lossless), so nothing is replaced.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A string as a JSON value that keeps every byte: itself when it is
// well-formed UTF-8 (every string a header parse gives, and nearly every
// address), else {"hex": "..."}; an envelope may hold any bytes, and the
// index must give back what the record holds.
json Lossless(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * s.size());
  for (unsigned char c : s) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return json{{"hex", std::move(hex)}};
}

bool FromLossless(const json& j, std::string* out) {
  if (j.is_string()) {
    *out = j.get_ref<const std::string&>();
    return true;
  }
  auto hex = j.is_object() && j.size() == 1 ? j.find("hex") : j.end();
  if (hex == j.end() || !hex->is_string()) return false;
  const std::string& h = hex->get_ref<const std::string&>();
  if (h.size() % 2 != 0) return false;
  auto nibble = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  out->clear();
  for (size_t i = 0; i < h.size(); i += 2) {
    const int hi = nibble(h[i]), lo = nibble(h[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

Status Bad(std::string_view column) {
  return Status::Corruption("index row: column " + std::string(column) + " is not valid");
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// At most this many trigrams go into one MATCH: more add little selectivity
// and cost one doclist each.
constexpr size_t kMaxTrigrams = 16;

// Well-formed UTF-8 without NUL: what the trigram tokenizer splits into the
// same characters as Utf8Length counts. Anything else is left to LIKE.
bool PlainUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c == 0             ? 0
                 : c < 0x80         ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if (!IsContinuation(s[i + k])) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

std::string RecipientKey(std::string_view address) {
  if (address.empty() || !IsValidUtf8(address)) return "";
  std::string out(address);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string EncodeRcpt(const std::vector<std::string>& rcpt) {
  json arr = json::array();
  for (const std::string& r : rcpt) arr.push_back(Lossless(r));
  return Dump(arr);
}

std::string EncodeStatuses(const std::map<std::string, std::string>& statuses) {
  json obj = json::object();
  for (const auto& [engine, label] : statuses) obj[engine] = Lossless(label);
  return Dump(obj);
}

std::string EncodeAttachments(const std::vector<Attachment>& attachments) {
  json arr = json::array();
  for (const Attachment& a : attachments) {
    arr.push_back(json{{"name", Lossless(a.name)}, {"type", Lossless(a.type)}, {"size", a.size}});
  }
  return Dump(arr);
}

Status DecodeRcpt(std::string_view text, std::vector<std::string>* out) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Bad("rcpt");
  out->clear();
  for (const json& e : j) {
    std::string r;
    if (!FromLossless(e, &r)) return Bad("rcpt");
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

Status DecodeStatuses(std::string_view text, std::map<std::string, std::string>* out) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("statuses");
  out->clear();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!FromLossless(it.value(), &(*out)[it.key()])) return Bad("statuses");
  }
  return Status::Ok();
}

Status DecodeAttachments(std::string_view text, std::vector<Attachment>* out) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Bad("attachments");
  out->clear();
  for (const json& e : j) {
    if (!e.is_object()) return Bad("attachments");
    auto name = e.find("name");
    auto type = e.find("type");
    auto size = e.find("size");
    Attachment a;
    if (name == e.end() || !FromLossless(*name, &a.name) || type == e.end() ||
        !FromLossless(*type, &a.type) || size == e.end() || !size->is_number_unsigned()) {
      return Bad("attachments");
    }
    a.size = size->get<uint64_t>();
    out->push_back(std::move(a));
  }
  return Status::Ok();
}

uint32_t EngineMask(const std::map<std::string, std::string>& statuses) {
  uint32_t mask = 0;
  for (const auto& [engine, label] : statuses) {
    if (auto bit = EngineBit(engine); bit.ok()) mask |= *bit;
  }
  return mask;
}

namespace {

constexpr std::string_view kTagOpen = "\u27ea";  // ⟪

char Base36(int k) { return static_cast<char>(k < 10 ? '0' + k : 'a' + (k - 10)); }

std::string EngineTag(int bit) {
  std::string tag(kTagOpen);
  tag += 'e';
  tag += Base36(bit);
  return tag;
}

}  // namespace

std::string EngineTags(uint32_t engines) {
  std::string out;
  for (int bit = 0; bit < 32; ++bit) {
    if (engines & (uint32_t{1} << bit)) out += (out.empty() ? "" : " ") + EngineTag(bit);
  }
  return out;
}

std::string EngineTagMatch(uint32_t mask) {
  std::string out;
  for (int bit = 0; bit < 32; ++bit) {
    if (mask & (uint32_t{1} << bit)) out += (out.empty() ? "\"" : " OR \"") + EngineTag(bit) + "\"";
  }
  return out.empty() ? "" : "(" + out + ")";
}

std::string FtsText(const SearchText& t) {
  std::string out;
  out.reserve(t.from.size() + t.mail_from.size() + t.to.size() + t.cc.size() + t.rcpt_json.size() +
              t.subject.size() + t.message_id.size() + 48);
  for (std::string_view part :
       {t.from, t.mail_from, t.to, t.cc, t.rcpt_json, t.subject, t.message_id}) {
    if (!out.empty()) out += '\n';
    out += part;
  }
  out += '\n';
  out += EngineTags(t.engines);
  return out;
}

std::string LikePattern(std::string_view needle) {
  std::string out = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  out += '%';
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += IsContinuation(c) ? 0 : 1;
  return n;
}

std::string TrigramMatch(std::string_view needle) {
  if (!PlainUtf8(needle)) return "";
  std::vector<size_t> starts;  // byte offset of each character
  for (size_t i = 0; i < needle.size(); ++i) {
    if (!IsContinuation(needle[i])) starts.push_back(i);
  }
  if (starts.size() < 3) return "";
  const size_t windows = starts.size() - 2;
  // Windows that cover the needle without overlapping, plus the last one:
  // as selective in practice as all windows, and each window costs FTS5 one
  // doclist walk (measured: half the time of all windows). A very long
  // needle keeps an evenly spaced subset.
  std::vector<size_t> picked;
  for (size_t w = 0; w < windows; w += 3) picked.push_back(w);
  if (picked.back() != windows - 1) picked.push_back(windows - 1);
  if (picked.size() > kMaxTrigrams) {
    std::vector<size_t> fewer;
    for (size_t k = 0; k < kMaxTrigrams; ++k) {
      fewer.push_back(picked[k * (picked.size() - 1) / (kMaxTrigrams - 1)]);
    }
    picked.swap(fewer);
  }
  std::set<std::string> seen;
  std::string out;
  for (size_t w : picked) {
    size_t begin = starts[w];
    size_t end = w + 3 < starts.size() ? starts[w + 3] : needle.size();
    std::string token(needle.substr(begin, end - begin));
    if (!seen.insert(token).second) continue;
    if (!out.empty()) out += " AND ";
    out += '"';
    for (char c : token) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace mailvault::index
