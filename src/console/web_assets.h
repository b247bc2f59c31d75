// The console's front end (web/, built by Vite into web/dist) compiled into
// the daemon, so mailvaultd serves its UI with no files beside it. The table
// is generated at build time by scripts/embed_web.py from web/dist
// (src/console/web_assets.cmake). Immutable, thread-safe.
#pragma once

#include <string_view>

namespace mailvault::console {

struct WebAsset {
  std::string_view path;          // "/index.html", "/assets/index-3f2a1c.js"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
  // True for content-hashed files under /assets/: they may be cached for a
  // year; everything else (index.html) must be revalidated.
  bool immutable = false;
};

// The asset at `path` (starting with '/'), or nullptr. "/" is not mapped:
// the server asks for "/index.html".
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace mailvault::console
