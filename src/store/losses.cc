// The record of copies lost to damage (see losses.h).
#include "store/losses.h"

#include "base/units.h"
#include "env/data_dir.h"

namespace mailvault::store {
namespace {

Result<uint64_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 19) return Status::InvalidArgument("bad id");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::InvalidArgument("bad id");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

Result<std::vector<Loss>> ReadLosses(Env& env, const std::string& dir) {
  std::vector<Loss> out;
  auto text = env.ReadFile(DataDir(dir).lost());
  if (!text.ok()) {
    if (text.status().IsNotFound()) return out;
    return text.status();
  }
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    size_t a = line.find(' ');
    size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    Loss l;
    auto id = ParseId(line.substr(0, a));
    if (!id.ok() || b == std::string_view::npos) {
      return Status::Corruption(DataDir(dir).lost() + ": bad line: " + std::string(line));
    }
    l.id = *id;
    auto t = ParseRfc3339(line.substr(a + 1, b - a - 1));
    l.found_at = t.ok() ? *t : 0;
    l.what = std::string(line.substr(b + 1));
    out.push_back(std::move(l));
  }
  return out;
}

Status RecordLosses(Env& env, const std::string& dir, const std::vector<Loss>& losses) {
  if (losses.empty()) return Status::Ok();
  auto text = env.ReadFile(DataDir(dir).lost());
  std::string all;
  if (text.ok()) {
    all = std::move(text).value();
  } else if (!text.status().IsNotFound()) {
    return text.status();
  }
  for (const Loss& l : losses) {
    all += std::to_string(l.id) + " " + FormatRfc3339(l.found_at) + " " + OneLine(l.what) + "\n";
  }
  return env.WriteFileAtomic(DataDir(dir).lost(), all);
}

Status ClearLosses(Env& env, const std::string& dir) {
  const std::string path = DataDir(dir).lost();
  if (!env.Exists(path)) return Status::Ok();
  MV_RETURN_IF_ERROR(env.Remove(path));
  return env.SyncDir(dir);
}

}  // namespace mailvault::store
