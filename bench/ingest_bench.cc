// ingest_bench: how many 50 KB messages per second the store makes durable
// (Put returns only once the copy is fsynced and indexed), with 1 and 8
// concurrent writers, against two baselines measured in the same run on the
// same file system with the same bytes:
//  (a) the physical limit: one thread appends record-sized blocks (the
//      message plus the store's measured per-record overhead) to one file
//      with one fdatasync per batch, the batch being the store's own
//      measured average batch (puts / segment fsyncs, counted by a wrapper
//      Env). No encryption, no index, no metadata: nothing can be cheaper
//      for the same durability granularity, so store/(a) is the share of
//      the disk's capability the store delivers.
//  (b) one file per message, fsync of the file and of its directory (how
//      Maildir, amavis and Proxmox Mail Gateway keep quarantine), with the
//      same number of threads: the common alternative design.
// Runs are interleaved (store, a, b for each thread count, repeated) so a
// noisy neighbour hits all three alike; ratios are taken per repetition and
// their median reported.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "bench/bench_util.h"
#include "mailvault/store.h"

namespace mailvault::bench {
namespace {

struct StoreRun {
  double rate = 0;         // msgs/s
  double batch = 0;        // puts per segment fsync
  double record_size = 0;  // segment bytes per copy
  double cpu_ms = 0;       // process CPU (user + sys, all threads) per copy
};

double CpuSeconds() {
  struct rusage u;
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs `fn(i)` for i in [0, n) on `threads` threads; returns elapsed seconds.
template <typename Fn>
double Parallel(int threads, size_t n, Fn fn) {
  std::atomic<size_t> next{0};
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    });
  }
  for (auto& t : ts) t.join();
  return SecondsSince(start);
}

PutRequest RequestFor(const std::string& raw, size_t i) {
  PutRequest r;
  r.raw = raw;
  r.mail_from = "bounce-" + std::to_string(i) + "@news.example-shop.com";
  r.rcpt = {"user" + std::to_string(i % 997) + "@corp.example"};
  r.rule_id = "R" + std::to_string(1 + i % 20);
  r.statuses = {{"anti-spam", "spam"}};
  r.reason = "spam score 14.2";
  r.queue_id = "4Q" + std::to_string(i);
  return r;
}

StoreRun RunStore(const std::vector<std::string>& msgs, int threads) {
  TempDir dir("ingest-store");
  CountingEnv env(PosixEnv());
  StoreOptions o;
  o.dir = dir.path() + "/store";
  o.env = &env;
  Check(Store::Init(o), "init store");
  std::unique_ptr<Store> store = CheckResult(Store::Open(o), "open store");
  const uint64_t syncs_before = env.segment_syncs();
  const double cpu_before = CpuSeconds();
  double secs = Parallel(threads, msgs.size(),
                         [&](size_t i) { CheckResult(store->Put(RequestFor(msgs[i], i)), "put"); });
  const uint64_t syncs = env.segment_syncs() - syncs_before;
  const double cpu = CpuSeconds() - cpu_before;
  StoreStats st = CheckResult(store->Stats(), "stats");
  StoreRun r;
  r.rate = static_cast<double>(msgs.size()) / secs;
  r.batch = static_cast<double>(msgs.size()) / static_cast<double>(std::max<uint64_t>(syncs, 1));
  r.record_size = static_cast<double>(st.bytes) / static_cast<double>(msgs.size());
  r.cpu_ms = cpu * 1e3 / static_cast<double>(msgs.size());
  return r;
}

void WriteAll(int fd, const char* p, size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      std::perror(what.c_str());
      std::exit(1);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Baseline (a): append to one file, one fdatasync per `batch` records.
double RunAppend(const std::vector<std::string>& msgs, size_t record_size, size_t batch) {
  TempDir dir("ingest-append");
  const std::string path = dir.path() + "/one.log";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::string rec;
  auto start = Clock::now();
  for (size_t i = 0; i < msgs.size(); ++i) {
    rec.assign(msgs[i]);
    if (rec.size() < record_size) rec.append(record_size - rec.size(), '\x5a');
    WriteAll(fd, rec.data(), rec.size(), path);
    if ((i + 1) % batch == 0 || i + 1 == msgs.size()) {
      if (::fdatasync(fd) != 0) {
        std::perror("fdatasync");
        std::exit(1);
      }
    }
  }
  double secs = SecondsSince(start);
  ::close(fd);
  return static_cast<double>(msgs.size()) / secs;
}

// Baseline (b): one file per message, fsync the file, then its directory.
double RunFilePerMessage(const std::vector<std::string>& msgs, int threads) {
  TempDir dir("ingest-maildir");
  const std::string qdir = dir.path() + "/quarantine";
  ::mkdir(qdir.c_str(), 0700);
  double secs = Parallel(threads, msgs.size(), [&](size_t i) {
    const std::string path = qdir + "/" + std::to_string(i) + ".eml";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::perror(path.c_str());
      std::exit(1);
    }
    WriteAll(fd, msgs[i].data(), msgs[i].size(), path);
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      std::perror("fsync file");
      std::exit(1);
    }
    int dfd = ::open(qdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
      std::perror("fsync dir");
      std::exit(1);
    }
    ::close(dfd);
  });
  return static_cast<double>(msgs.size()) / secs;
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const size_t n = static_cast<size_t>(flags.Int("messages", 3000));
  const size_t size = static_cast<size_t>(flags.Int("size", 50 * 1024));
  const int reps = static_cast<int>(flags.Int("reps", 3));
  const std::string thread_list = flags.Str("threads", "1,8");
  // For profiling the store alone (perf record): skips the baselines.
  const bool only_store = flags.Int("only_store", 0) != 0;
  flags.CheckAllUsed();
  std::vector<int> thread_counts;
  for (size_t p = 0; p < thread_list.size();) {
    size_t q = thread_list.find(',', p);
    if (q == std::string::npos) q = thread_list.size();
    thread_counts.push_back(std::stoi(thread_list.substr(p, q - p)));
    p = q + 1;
  }

  std::vector<std::string> msgs;
  msgs.reserve(n);
  for (size_t i = 0; i < n; ++i) msgs.push_back(MakeMessage(i, size));

  struct Runs {
    std::vector<double> store, batch, record, cpu, append, files, vs_append, vs_files;
  };
  std::map<int, Runs> runs;
  for (int rep = 0; rep < reps; ++rep) {
    for (int t : thread_counts) {
      StoreRun s = RunStore(msgs, t);
      if (only_store) {
        std::fprintf(stderr, "store %.0f/s (batch %.1f, cpu %.2f ms/msg)\n", s.rate, s.batch,
                     s.cpu_ms);
        continue;
      }
      const size_t batch = std::max<size_t>(1, static_cast<size_t>(s.batch + 0.5));
      double a = RunAppend(msgs, static_cast<size_t>(s.record_size), batch);
      double b = RunFilePerMessage(msgs, t);
      Runs& r = runs[t];
      r.store.push_back(s.rate);
      r.batch.push_back(s.batch);
      r.record.push_back(s.record_size);
      r.cpu.push_back(s.cpu_ms);
      r.append.push_back(a);
      r.files.push_back(b);
      r.vs_append.push_back(s.rate / a);
      r.vs_files.push_back(s.rate / b);
      std::fprintf(stderr,
                   "ingest rep %d threads %d: store %.0f/s (batch %.1f) append %.0f/s "
                   "files %.0f/s\n",
                   rep + 1, t, s.rate, s.batch, a, b);
    }
  }

  if (only_store) return 0;
  std::cout << "## Ingest: " << size / 1024 << " KB messages, durable commit\n\n"
            << "`" << flags.command_line() << "`\n\n"
            << n << " messages per configuration, " << reps
            << " repetitions, medians (ratios: median of the per-repetition ratios). "
            << "(a) = one file, one fdatasync per batch of the store's own measured batch size, "
            << "record-sized writes; (b) = one file per message, fsync file + directory. "
            << "Store CPU = user + sys of the whole process (callers, leader, indexer) per "
               "message: on a shared machine, msgs/s x CPU ms/msg near 1000 x free cores means "
               "the store is CPU-bound, not disk-bound. "
            << "Target: store >= 70 % of (a), well ahead of (b).\n\n";
  Table t({"writers", "store msgs/s", "store MB/s", "avg batch (puts/fsync)", "bytes/record",
           "store CPU ms/msg", "(a) append msgs/s", "(b) file-per-msg msgs/s", "store/(a)",
           "store/(b)"});
  for (int th : thread_counts) {
    const Runs& r = runs[th];
    t.Row({std::to_string(th), Fmt(Median(r.store), 0),
           Fmt(Median(r.store) * static_cast<double>(size) / 1e6, 1), Fmt(Median(r.batch), 1),
           Fmt(Median(r.record), 0), Fmt(Median(r.cpu), 2), Fmt(Median(r.append), 0),
           Fmt(Median(r.files), 0), Pct(Median(r.vs_append)), Fmt(Median(r.vs_files), 2) + "x"});
  }
  t.Print();
  Table raw({"writers", "rep", "store msgs/s", "batch", "(a) msgs/s", "(b) msgs/s"});
  for (int th : thread_counts) {
    const Runs& r = runs[th];
    for (size_t i = 0; i < r.store.size(); ++i) {
      raw.Row({std::to_string(th), std::to_string(i + 1), Fmt(r.store[i], 0), Fmt(r.batch[i], 1),
               Fmt(r.append[i], 0), Fmt(r.files[i], 0)});
    }
  }
  std::cout << "Individual repetitions:\n\n";
  raw.Print();
  return 0;
}

}  // namespace
}  // namespace mailvault::bench

int main(int argc, char** argv) { return mailvault::bench::Main(argc, argv); }
