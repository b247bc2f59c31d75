// How a copy's metadata is laid out in index rows and how search text is
// turned into SQL patterns: pure functions, no SQLite, so they are tested
// on their own. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/copy.h"
#include "mailvault/status.h"

namespace mailvault::index {

// The JSON columns. Encoding never fails and keeps every byte: a string that
// is not well-formed UTF-8 (an envelope address can be anything) is written
// as {"hex": "..."} instead of a JSON string, so Decode(Encode(x)) == x and
// the index entry always equals its record. Decoding gives Corruption for
// text that is not what Encode makes.
std::string EncodeRcpt(const std::vector<std::string>& rcpt);
std::string EncodeStatuses(const std::map<std::string, std::string>& statuses);
std::string EncodeAttachments(const std::vector<Attachment>& attachments);
Status DecodeRcpt(std::string_view json, std::vector<std::string>* out);
Status DecodeStatuses(std::string_view json, std::map<std::string, std::string>* out);
Status DecodeAttachments(std::string_view json, std::vector<Attachment>* out);

// An envelope recipient as the recipient table keys it: the address with
// ASCII letters lower-cased, every other byte kept (the local part is
// case-sensitive by RFC 5321, but no mail system in use treats it so, and
// a personal user must not miss mail written Alice@). "" for an address
// that is not well-formed UTF-8: no account address can be such, so it is
// not indexed.
std::string RecipientKey(std::string_view address);

// The engines column: the bits (EngineBit) of the engines that labelled the
// copy. Engines this build does not know are kept in the statuses column
// but have no bit.
uint32_t EngineMask(const std::map<std::string, std::string>& statuses);

// The one text the trigram index holds for a copy: every searchable column,
// exactly as stored, joined by newlines. Whatever a per-column LIKE matches
// is therefore a substring of this text, so the trigram index never misses
// a row the LIKE recheck would accept.
struct SearchText {
  std::string_view from;
  std::string_view mail_from;
  std::string_view to;
  std::string_view cc;
  std::string_view rcpt_json;
  std::string_view subject;
  std::string_view message_id;
  // Engine tags (EngineTags) appended to the text, so that a text search
  // combined with an engine filter narrows on both inside the trigram index.
  uint32_t engines = 0;
};
std::string FtsText(const SearchText& t);

// Tags for the engines, written with U+27EA (which mail text practically
// never holds) so each is one trigram of its own: "\u27eae<bit>". Measured
// at 1M copies: a common needle with a rare engine went from 78 to 24 ms
// p95. Tags for the rule and for size classes were tried too and did not
// pay: an OR over size classes or the rule's trigrams cost FTS5 more than
// the rechecks they saved.
std::string EngineTags(uint32_t engines);
std::string EngineTagMatch(uint32_t mask);  // any of the engines

// "%needle%" with %, _ and the escape character \ escaped, for
// `LIKE ? ESCAPE '\'`.
std::string LikePattern(std::string_view needle);

// Characters (UTF-8 code points) in s.
size_t Utf8Length(std::string_view s);

// An FTS5 MATCH expression that every text containing `needle` (case
// folded) satisfies: an AND of 3-character windows of the needle, each a
// quoted string (detail=none allows no phrases). A necessary condition
// only; the caller rechecks. Empty if the needle is shorter than 3
// characters, or is not well-formed UTF-8 or holds a NUL: the trigram
// index cannot help.
std::string TrigramMatch(std::string_view needle);

}  // namespace mailvault::index
