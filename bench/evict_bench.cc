// evict_bench: does a store that sits at its size cap (so that the oldest
// segments are evicted continually while new copies arrive) ingest as fast
// as an empty store whose cap is never reached? Both runs use the same
// writer count, message size, segment size and file system, and run one
// after the other within each repetition, so the only difference is the
// eviction work (segment unlinks, index row and trigram deletions). The
// capped store is pre-filled past its cap before timing starts; a control
// store pre-filled alike but with its cap out of reach tells how much of any
// gap is eviction and how much is merely a fuller index.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "bench/bench_util.h"
#include "mailvault/store.h"

namespace mailvault::bench {
namespace {

struct Run {
  double rate = 0;
  uint64_t evictions = 0;  // "evicted" events during the timed part
  uint64_t bytes_after = 0;
};

void PutAll(Store& store, const std::vector<std::string>& msgs, size_t first, size_t n,
            int threads) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        PutRequest r;
        r.raw = msgs[(first + i) % msgs.size()];
        r.mail_from = "news@example-shop.com";
        r.rcpt = {"user" + std::to_string(i % 997) + "@corp.example"};
        r.rule_id = "R" + std::to_string(1 + i % 20);
        r.statuses = {{"anti-spam", "spam"}};
        CheckResult(store.Put(r), "put");
      }
    });
  }
  for (auto& t : ts) t.join();
}

Run RunOnce(const std::vector<std::string>& msgs, size_t n, int threads, uint64_t cap,
            uint64_t prefill, uint64_t segment_size) {
  TempDir dir("evict");
  std::atomic<uint64_t> evictions{0};
  StoreOptions o;
  o.dir = dir.path() + "/store";
  o.segment_size = segment_size;
  o.on_event = [&](std::string_view kind, std::string_view) {
    if (kind == "evicted") evictions.fetch_add(1);
  };
  Check(Store::Init(o), "init");
  std::unique_ptr<Store> store = CheckResult(Store::Open(o), "open");
  Check(store->SetMaxSize(cap), "max_size");
  if (prefill > 0) PutAll(*store, msgs, n, prefill, threads);
  const uint64_t ev0 = evictions.load();
  auto t = Clock::now();
  PutAll(*store, msgs, 0, n, threads);
  Run r;
  r.rate = static_cast<double>(n) / SecondsSince(t);
  r.evictions = evictions.load() - ev0;
  r.bytes_after = CheckResult(store->Stats(), "stats").bytes;
  return r;
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const size_t n = static_cast<size_t>(flags.Int("messages", 3000));
  const size_t size = static_cast<size_t>(flags.Int("size", 20 * 1024));
  const int threads = static_cast<int>(flags.Int("threads", 8));
  const int reps = static_cast<int>(flags.Int("reps", 3));
  const uint64_t cap = static_cast<uint64_t>(flags.Int("cap_mb", 64)) << 20;
  const uint64_t segment = static_cast<uint64_t>(flags.Int("segment_mb", 4)) << 20;
  flags.CheckAllUsed();
  // Enough to pass the cap by a quarter, so eviction is already steady.
  const uint64_t prefill = cap * 5 / 4 / size + 1;

  std::vector<std::string> msgs;
  for (size_t i = 0; i < n + prefill; ++i) msgs.push_back(MakeMessage(i, size));

  // A third run, pre-filled like the capped one but with the cap out of
  // reach, separates the cost of evicting from the cost of a fuller index.
  std::vector<double> empty_rates, capped_rates, full_rates, ratios, full_ratios;
  std::vector<Run> capped_runs;
  for (int rep = 0; rep < reps; ++rep) {
    Run e = RunOnce(msgs, n, threads, uint64_t{1} << 50, 0, segment);
    Run c = RunOnce(msgs, n, threads, cap, prefill, segment);
    Run f = RunOnce(msgs, n, threads, uint64_t{1} << 50, prefill, segment);
    empty_rates.push_back(e.rate);
    capped_rates.push_back(c.rate);
    full_rates.push_back(f.rate);
    ratios.push_back(c.rate / e.rate);
    full_ratios.push_back(c.rate / f.rate);
    capped_runs.push_back(c);
    std::fprintf(stderr,
                 "evict rep %d: empty %.0f/s, at cap %.0f/s (%llu evictions), pre-filled %.0f/s\n",
                 rep + 1, e.rate, c.rate, static_cast<unsigned long long>(c.evictions), f.rate);
  }

  std::cout << "## Ingest at the size cap (eviction) vs into an empty store\n\n`"
            << flags.command_line() << "`\n\n"
            << threads << " writers, " << size / 1024 << " KB messages, " << n
            << " timed puts per run, segments of " << (segment >> 20) << " MB; the capped store "
            << "(max_size " << (cap >> 20) << " MB) is first filled with " << prefill
            << " messages so every segment roll during the timed part evicts the oldest one; "
            << "the empty store's cap is never reached. " << reps
            << " repetitions, medians. Target: >= 90 %.\n\n";
  Table t({"store", "msgs/s (median)", "runs", "evictions per run", "segment bytes after"});
  auto runs = [](const std::vector<double>& v, int decimals = 0) {
    std::string s;
    for (double x : v) s += (s.empty() ? "" : ", ") + Fmt(x, decimals);
    return s;
  };
  t.Row({"empty, cap never reached", Fmt(Median(empty_rates), 0), runs(empty_rates), "0", "-"});
  std::vector<double> ev;
  for (const Run& r : capped_runs) ev.push_back(static_cast<double>(r.evictions));
  t.Row({"at cap, evicting", Fmt(Median(capped_rates), 0), runs(capped_rates), Fmt(Median(ev), 0),
         Fmt(static_cast<double>(capped_runs.back().bytes_after) / 1048576.0, 1) + " MB"});
  t.Row({"pre-filled alike, cap never reached (control)", Fmt(Median(full_rates), 0),
         runs(full_rates), "0", "-"});
  t.Print();
  std::cout << "**at cap / empty: " << Pct(Median(ratios))
            << "** (median of per-repetition ratios: " << runs(ratios, 2)
            << "); at cap / pre-filled control: " << Pct(Median(full_ratios)) << " ("
            << runs(full_ratios, 2) << ")\n\n";
  return 0;
}

}  // namespace
}  // namespace mailvault::bench

int main(int argc, char** argv) { return mailvault::bench::Main(argc, argv); }
