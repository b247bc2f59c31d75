// docs/openapi.yaml and the server agree: every route the server answers is
// described there, and every operation described there is a route. The file
// is read with a line scan of its `paths:` block (two-space indented path
// keys, four-space indented method keys), which is the layout the file keeps.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "console/server.h"

namespace mailvault::console {
namespace {

std::set<std::string> DocumentedOperations(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::set<std::string> ops;
  std::string line, current;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths) continue;
    if (!line.empty() && line[0] != ' ') break;  // the next top-level key
    if (line.rfind("  /", 0) == 0 && line.back() == ':') {
      current = line.substr(2, line.size() - 3);
      continue;
    }
    for (const char* m : {"get", "post", "put", "delete", "patch"}) {
      if (line == std::string("    ") + m + ":") {
        std::string method = m;
        for (char& c : method) c = static_cast<char>(c - 'a' + 'A');
        ops.insert(method + " " + current);
      }
    }
  }
  return ops;
}

TEST(OpenApi, DescribesExactlyTheServersRoutes) {
  std::set<std::string> documented =
      DocumentedOperations(std::string(MV_SOURCE_DIR) + "/docs/openapi.yaml");
  std::set<std::string> served;
  for (const RouteInfo& r : ConsoleServer::Routes()) served.insert(r.method + " " + r.path);
  for (const std::string& op : served) {
    EXPECT_TRUE(documented.count(op)) << op << " is served but not in docs/openapi.yaml";
  }
  for (const std::string& op : documented) {
    EXPECT_TRUE(served.count(op)) << op << " is in docs/openapi.yaml but not served";
  }
  EXPECT_GE(served.size(), 19u);
}

}  // namespace
}  // namespace mailvault::console
