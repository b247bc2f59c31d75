// Shared benchmark helpers; see bench_util.h. This file measures nothing
// itself: it builds inputs and formats what the benchmarks measured.
#include "bench/bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace mailvault::bench {

Flags::Flags(int argc, char** argv) {
  command_line_ = argv[0];
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    command_line_ += " " + a;
    if (a.rfind("--", 0) != 0) {
      std::fprintf(stderr, "%s: unexpected argument %s (flags are --name=value)\n", argv[0],
                   a.c_str());
      std::exit(2);
    }
    size_t eq = a.find('=');
    std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    values_[name] = eq == std::string::npos ? "1" : a.substr(eq + 1);
    used_[name] = false;
  }
}

int64_t Flags::Int(const std::string& name, int64_t def) {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  used_[name] = true;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0') {
    std::fprintf(stderr, "--%s wants an integer, got %s\n", name.c_str(), it->second.c_str());
    std::exit(2);
  }
  return v;
}

std::string Flags::Str(const std::string& name, const std::string& def) {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  used_[name] = true;
  return it->second;
}

void Flags::CheckAllUsed() const {
  for (const auto& [name, used] : used_) {
    if (!used) {
      std::fprintf(stderr, "unknown flag --%s\n", name.c_str());
      std::exit(2);
    }
  }
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 50); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

void Check(const Status& s, std::string_view what) {
  if (s.ok()) return;
  std::fprintf(stderr, "benchmark failed: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               s.ToString().c_str());
  std::exit(1);
}

TempDir::TempDir(std::string_view tag) {
  const char* root = std::getenv("MV_BENCH_TMP");
  if (root == nullptr || *root == '\0') root = std::getenv("TMPDIR");
  if (root == nullptr || *root == '\0') root = "/tmp";
  std::filesystem::create_directories(root);
  std::string templ = std::string(root) + "/mvbench-" + std::string(tag) + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    std::perror(("mkdtemp " + templ).c_str());
    std::exit(1);
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void Table::Print() const {
  std::vector<size_t> w(header_.size(), 3);
  auto widen = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  auto line = [&](const std::vector<std::string>& r) {
    std::string out = "|";
    for (size_t i = 0; i < w.size(); ++i) {
      std::string c = i < r.size() ? r[i] : "";
      out += " " + c + std::string(w[i] - c.size(), ' ') + " |";
    }
    std::cout << out << "\n";
  };
  line(header_);
  std::string sep = "|";
  for (size_t x : w) sep += std::string(x + 2, '-') + "|";
  std::cout << sep << "\n";
  for (const auto& r : rows_) line(r);
  std::cout << std::endl;
}

std::string Fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Pct(double ratio) { return Fmt(ratio * 100.0, 0) + " %"; }

std::string MakeMessage(uint64_t n, size_t size) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::mt19937_64 rng(n * 0x9E3779B97F4A7C15ull + 1);
  const std::string id = std::to_string(n);
  std::string m;
  m.reserve(size);
  m += "Return-Path: <bounce-" + id + "@news.example-shop.com>\r\n";
  m += "Received: from mx" + std::to_string(n % 7) +
       ".example-shop.com (mx.example-shop.com [198.51.100." + std::to_string(n % 250) +
       "])\r\n\tby gw.corp.example (Postfix) with ESMTPS id 4Q" + id + "\r\n\tfor <user" +
       std::to_string(n % 997) + "@corp.example>; Tue, 2 Apr 2024 10:00:00 +0000\r\n";
  m += "From: \"Shop News\" <news" + std::to_string(n % 113) + "@example-shop.com>\r\n";
  m += "To: User " + std::to_string(n % 997) + " <user" + std::to_string(n % 997) +
       "@corp.example>\r\n";
  m += "Subject: Your invoice " + id + " is ready\r\n";
  m += "Date: Tue, 2 Apr 2024 10:00:00 +0000\r\n";
  m += "Message-ID: <" + id + "." + std::to_string(rng()) + "@example-shop.com>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/mixed; boundary=\"b1_" + id + "\"\r\n\r\n";
  m += "--b1_" + id + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += "Dear customer,\r\nplease find invoice " + id + " attached.\r\n\r\n";
  m += "--b1_" + id +
       "\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n\r\n";
  const std::string tail = "\r\n--b1_" + id + "--\r\n";
  const size_t body_end = size > m.size() + tail.size() ? size - tail.size() : m.size();
  uint64_t bits = 0;
  int have = 0;
  size_t col = 0;
  while (m.size() < body_end) {
    if (col == 76 && m.size() + 2 <= body_end) {
      m += "\r\n";
      col = 0;
      continue;
    }
    if (have < 6) {
      bits = rng();
      have = 64;
    }
    m.push_back(kB64[bits & 63]);
    bits >>= 6;
    have -= 6;
    ++col;
  }
  m += tail;
  return m;
}

namespace {

class CountingFile final : public WritableFile {
 public:
  CountingFile(std::unique_ptr<WritableFile> base, std::atomic<uint64_t>* syncs)
      : base_(std::move(base)), syncs_(syncs) {}
  Status Append(std::string_view data) override { return base_->Append(data); }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    return base_->WriteAt(offset, data);
  }
  Status Sync() override {
    if (syncs_ != nullptr) syncs_->fetch_add(1);
    return base_->Sync();
  }
  uint64_t Size() const override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  std::unique_ptr<WritableFile> base_;
  std::atomic<uint64_t>* syncs_;  // null: not a segment file
};

}  // namespace

Result<std::unique_ptr<WritableFile>> CountingEnv::OpenAppendable(const std::string& path) {
  MV_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->OpenAppendable(path));
  const bool segment = path.find("/segments/") != std::string::npos;
  return std::unique_ptr<WritableFile>(
      new CountingFile(std::move(f), segment ? &segment_syncs_ : nullptr));
}

}  // namespace mailvault::bench
