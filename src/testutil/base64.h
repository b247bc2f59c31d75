// Base64 with CRLF lines of 76 characters, for tests that build MIME
// messages (the production code never encodes base64 itself).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailvault {

inline std::string Base64Lines(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
    if ((col += 4) == 76) out += "\r\n", col = 0;
  }
  if (col != 0) out += "\r\n";
  return out;
}

}  // namespace mailvault
