// fill_store: creates a store with N distinct messages of a given size
// (bench_util's MakeMessage), each with one envelope recipient, for the
// shell benchmarks that need a full Backup (bench/delivery_bench.sh). Puts
// from 8 threads so group commit makes it quick. Not a benchmark itself.
//
// Usage: fill_store DIR COUNT SIZE RCPT
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "mailvault/store.h"

int main(int argc, char** argv) {
  using namespace mailvault;
  if (argc != 5) {
    std::fprintf(stderr, "usage: fill_store DIR COUNT SIZE RCPT\n");
    return 2;
  }
  const std::string dir = argv[1], rcpt = argv[4];
  const uint64_t count = std::strtoull(argv[2], nullptr, 10);
  const size_t size = std::strtoull(argv[3], nullptr, 10);
  StoreOptions options;
  options.dir = dir;
  Status init = Store::Init(options);
  if (!init.ok()) {
    std::fprintf(stderr, "fill_store: %s\n", init.ToString().c_str());
    return 1;
  }
  auto store = Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "fill_store: %s\n", store.status().ToString().c_str());
    return 1;
  }
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (uint64_t n = next++; n < count && !failed; n = next++) {
        std::string raw = bench::MakeMessage(n, size);
        PutRequest r;
        r.raw = raw;
        r.mail_from = "sender@example.org";
        r.rcpt = {rcpt};
        r.statuses = {{"anti-spam", "spam"}};
        auto id = (*store)->Put(r);
        if (!id.ok()) {
          std::fprintf(stderr, "fill_store: %s\n", id.status().ToString().c_str());
          failed = true;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return failed ? 1 : 0;
}
