// ParseBudget: how much of a message GMime may parse, found in one pass over
// the message fed in pieces of any size.
//
// GMime's parser has no limits of its own (an object per part and per header
// line, recursion per nesting level), so hostile mail can cost it gigabytes.
// ParseBudget counts what costs GMime memory ("--" lines, header lines and
// bytes, Content-Type lines) over a stream, reassembling lines across pieces and keeping only as
// much of each line as the rules look at (a whole header line, 3 bytes of a body line), so a
// message behind a ByteSource never has to be in memory. Feeding the same bytes in any split gives
// the same limit. Not thread-safe; one object per message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailvault::mime {

class ParseBudget {
 public:
  static constexpr size_t kMaxBoundaryLines = 20000;
  static constexpr size_t kMaxTypeLines = 1000;
  static constexpr size_t kMaxHeaderLines = 20000;
  static constexpr size_t kMaxHeaderBytes = 4 * 1024 * 1024;

  // Feeds the next bytes of the message. False once a budget is exceeded:
  // limit() is then final and further bytes are ignored.
  bool Feed(std::string_view piece);
  // Call after the last piece (accounts for a last line without newline).
  void Finish();
  // Length of the prefix GMime may parse: everything fed so far unless a
  // budget was exceeded, else the start of the line that exceeded it.
  uint64_t limit() const { return over_ ? limit_ : line_start_; }

 private:
  void EndLine();
  bool Line(std::string_view line, uint64_t len);

  std::string line_;  // the first bytes of the current line
  uint64_t line_len_ = 0;
  uint64_t line_start_ = 0;
  uint64_t limit_ = 0;
  bool over_ = false;
  size_t boundary_lines_ = 0;
  size_t type_lines_ = 0;
  size_t header_lines_ = 0;
  uint64_t header_bytes_ = 0;
  bool in_header_ = true;        // the message starts with its header block
  bool after_boundary_ = false;  // the current header block follows a "--" line
  bool has_type_ = false;        // ... has a Content-Type line
  bool names_message_ = false;   // ... mentions message/*
  bool digest_ = false;          // some header block mentions multipart/digest
};

}  // namespace mailvault::mime
