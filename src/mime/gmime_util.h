// Helpers shared by the GMime users of this component (metadata.cc,
// parts.cc): ownership wrappers, the parser options (which also initialise
// GMime, once per process), decoded part sizes, address collection and the
// parse-budget pre-scan of a ByteSource. Internal to src/mime.
#pragma once

#include <gmime/gmime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "mailvault/byte_source.h"
#include "mailvault/status.h"

namespace mailvault::mime {

// Owned GObject reference, released on scope exit.
template <typename T>
struct GObjectDeleter {
  void operator()(T* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GRef = std::unique_ptr<T, GObjectDeleter<T>>;

// Owned g_malloc'd string.
struct GFreeDeleter {
  void operator()(char* p) const { g_free(p); }
};
using GChars = std::unique_ptr<char, GFreeDeleter>;

inline std::string_view View(const char* s) { return s == nullptr ? std::string_view() : s; }

// Parser options shared by all parses (read-only after creation, so safe to
// share between threads); the first call runs g_mime_init. Undeclared 8-bit
// header text is tried as UTF-8, then Latin-1 (which accepts any byte), so
// GMime hands back UTF-8.
GMimeParserOptions* ParserOptions();

// Decoded byte count of a part's content; 0 if it has none. Base64 is
// counted, not decoded (about 5x cheaper): an upper bound when junk follows
// the padding.
uint64_t DecodedSize(GMimePart* part);

// Appends the lower-cased addr-specs of `list` (group members included) to
// *out, skipping those in *seen, until *out holds `max_addresses`.
void CollectAddresses(InternetAddressList* list, size_t max_addresses,
                      std::vector<std::string>* out, std::unordered_set<std::string>* seen);

// Where the angle brackets of a mailbox are (ignoring those quoted or in
// comments): `open` and `close` of the first pair, `pairs` in all.
struct AngleBrackets {
  size_t open = 0;
  size_t close = 0;
  int pairs = 0;
};

// Checks that the quotes, comments and angle brackets of an address header
// value are closed and do not nest where they cannot; nullptr if so, else
// the reason. GMime's address parser leaks on some unbalanced input (3.2.13:
// 128 bytes for "r@[192.0.2.1] (", an unclosed comment after a domain
// literal), so no text it parses as addresses may skip this check:
// ParseMailbox refuses such text, and metadata extraction reads the message
// through AddressHeaderGuard.
const char* ScanDelimiters(std::string_view text, AngleBrackets* brackets);

// Finds the delimiters AddressHeaderGuard blanks, from the message fed in
// consecutive pieces of any split (so the pass that computes the parse
// budget can do this too). Not thread-safe; one object per message.
class AddressHeaderScan {
 public:
  void Feed(std::string_view chunk);
  // The offsets to blank, sorted. Call once, after the last piece.
  std::vector<uint64_t> Finish();

 private:
  void CloseField();

  // The longest address header name ("resent-reply-to").
  static constexpr size_t kMaxName = 15;

  uint64_t offset_ = 0;
  bool line_start_ = true;
  char name_[kMaxName];  // the line's first letters, lower case, while they may be a name
  size_t name_len_ = 0;
  bool naming_ = true;         // still reading a possible header name
  bool in_field_ = false;      // inside the value of an address header field
  bool continuation_ = false;  // the field may go on at the next line start
  std::string value_;
  bool too_long_ = false;
  std::vector<uint64_t> delimiters_;
  std::vector<uint64_t> patches_;
};

// A ByteSource that shows GMime `raw` with the delimiters ( ) < > " \ of
// every unbalanced address header field (From, To, Cc, Bcc, Sender,
// Reply-To and their Resent- forms; at the top and in attached messages,
// so at any line start) replaced by spaces. Same length and offsets as
// `raw`, so part sizes do not change. Scan reads [0, limit) once, in 64 KiB
// pieces; a read error ends the scan (GMime then stops there too).
class AddressHeaderGuard final : public ByteSource {
 public:
  AddressHeaderGuard(const ByteSource& raw, uint64_t limit);
  // With the patches an AddressHeaderScan found.
  AddressHeaderGuard(const ByteSource& raw, std::vector<uint64_t> patches)
      : raw_(raw), patches_(std::move(patches)) {}
  uint64_t size() const override { return raw_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override;
  size_t patched() const { return patches_.size(); }  // delimiters blanked

 private:
  const ByteSource& raw_;
  std::vector<uint64_t> patches_;  // sorted offsets
};

// The parse-budget limit (parse_budget.h) of the whole source, read once in
// 64 KiB pieces. A read error ends the scan: the limit then covers what was
// read, and *read_error says why.
uint64_t BudgetLimit(const ByteSource& raw, Status* read_error);

}  // namespace mailvault::mime
