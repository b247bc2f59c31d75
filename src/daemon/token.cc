// API token file handling (see token.h).
#include "daemon/token.h"

#include <cstdint>

#include "crypto/page_cipher.h"

namespace mailvault::daemon {

Result<std::string> LoadOrCreateToken(Env& env, const std::string& path, bool* created) {
  *created = false;
  if (env.Exists(path)) {
    auto text = env.ReadFile(path);
    if (!text.ok()) return text.status().Annotate("token file");
    std::string t = *text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    size_t start = 0;
    while (start < t.size() && std::isspace(static_cast<unsigned char>(t[start]))) ++start;
    t.erase(0, start);
    if (t.size() < 16) {
      return Status::InvalidArgument("token file " + path + " holds fewer than 16 characters");
    }
    return t;
  }
  crypto::InitCrypto();
  uint8_t bytes[32];
  crypto::RandomBytes(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (uint8_t b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  Status s = env.WriteFileAtomic(path, token + "\n");  // 0600
  if (!s.ok()) return s.Annotate("create token file");
  *created = true;
  return token;
}

}  // namespace mailvault::daemon
