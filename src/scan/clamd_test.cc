#include "scan/clamd.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "mailvault/copy.h"
#include "scan/net.h"
#include "testutil/temp_dir.h"

namespace mailvault::scan {
namespace {

constexpr const char* kVersion = "ClamAV 1.4.6/27456/Thu Nov 20 08:25:44 2026";

// ---- Pure codec -------------------------------------------------------------

TEST(ClamdChunk, FramesWithBigEndianLength) {
  EXPECT_EQ(ClamdChunk("abc"), std::string("\0\0\0\3abc", 7));
  EXPECT_EQ(ClamdChunk(""), std::string(4, '\0'));
  std::string big(0x011170, 'z');
  std::string framed = ClamdChunk(big);
  EXPECT_EQ(framed.substr(0, 4), std::string("\x00\x01\x11\x70", 4));
  EXPECT_EQ(framed.size(), big.size() + 4);
}

TEST(ClassifySignature, Table) {
  struct Case {
    const char* name;
    const char* label;
  } cases[] = {
      {"Win.Test.EICAR_HDB-1", "infected"},
      {"Win.Test.EICAR_HDB-1.UNOFFICIAL", "infected"},
      {"Eicar-Signature", "infected"},
      {"Doc.Dropper.Agent-6369707-0", "infected"},
      {"Heuristics.Encrypted.Zip", "encrypted"},
      {"Heuristics.Encrypted.PDF", "encrypted"},
      {"Encrypted.RAR", "encrypted"},
      {"Heuristics.Broken.Executable", "corrupted"},
      {"Heuristics.Broken.Media.PNG.EOFReadingChunk", "corrupted"},
      {"Broken.Executable", "corrupted"},
      {"Win.Exploit.Broken.Foo", "corrupted"},
      {"Heuristics.Limits.Exceeded.MaxFileSize", "not-scanned"},
      {"Heuristics.Phishing.Email.SpoofedDomain", "probably-infected"},
      {"Heuristics.OLE2.ContainsMacros", "probably-infected"},
      {"Heuristics.Structured.CreditCardNumber", "probably-infected"},
      {"Win.Trojan.Heuristic.Foo", "probably-infected"},
      {"Email.Heuristics.Foo", "probably-infected"},
      {"PUA.Win.Packer.Upx-1", "probably-infected"},
      {"Win.Ransomware.Encrypted-1", "infected"},  // a family name, not the heuristic
      {"Heuristic", "infected"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ClassifySignature(c.name), c.label);
    if (std::string_view(c.label) != "not-scanned") {
      EXPECT_TRUE(ValidateStatus("anti-virus", c.label).ok());
    }
  }
}

TEST(ParseClamdScanReply, Table) {
  struct Case {
    std::string reply;
    const char* label;
    const char* signature;  // "" = none
    const char* error;      // substring, "" = no error
  } cases[] = {
      {"stream: OK", "not-detected", "", ""},
      {"stream: OK\n", "not-detected", "", ""},
      {std::string("stream: OK\0", 11), "not-detected", "", ""},
      {"stream: Win.Test.EICAR_HDB-1 FOUND", "infected", "Win.Test.EICAR_HDB-1", ""},
      {"stream: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND", "infected",
       "Win.Test.EICAR_HDB-1.UNOFFICIAL", ""},
      {"stream: Heuristics.Encrypted.Zip FOUND", "encrypted", "Heuristics.Encrypted.Zip", ""},
      {"stream: Heuristics.Broken.Executable FOUND", "corrupted", "Heuristics.Broken.Executable",
       ""},
      {"stream: Heuristics.Phishing.Email.SpoofedDomain FOUND", "probably-infected",
       "Heuristics.Phishing.Email.SpoofedDomain", ""},
      {"stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND", "not-scanned",
       "Heuristics.Limits.Exceeded.MaxScanSize", "scan limit"},
      {"INSTREAM size limit exceeded. ERROR", "not-scanned", "", "INSTREAM size limit exceeded."},
      {"stream: Can't allocate memory ERROR", "not-scanned", "", "Can't allocate memory"},
      {"ERROR", "not-scanned", "", "error"},
      {"UNKNOWN COMMAND", "not-scanned", "", "unexpected reply \"UNKNOWN COMMAND\""},
      {"COMMAND READ TIMED OUT", "not-scanned", "", "unexpected reply"},
      {"", "not-scanned", "", "empty reply"},
      {"stream: FOUND", "not-scanned", "", "unexpected reply"},
      {"stream:  FOUND", "not-scanned", "", "unexpected reply"},
      {"stream: OKAY", "not-scanned", "", "unexpected reply"},
      {"stream: OK FOUND OK", "not-scanned", "", "unexpected reply"},
      {"OK", "not-scanned", "", "unexpected reply"},
      {"stream: Bad\x01Name FOUND", "not-scanned", "", "\\x01"},
      {"stream: " + std::string(600, 'A') + " FOUND", "not-scanned", "", "..."},
      // A long error is clipped, not kept whole (found by clamd_reply_fuzz).
      {std::string(1500, 'x') + " ERROR", "not-scanned", "", "xxx...\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reply);
    Verdict v = ParseClamdScanReply(c.reply);
    EXPECT_EQ(v.engine, "anti-virus");
    EXPECT_EQ(v.label, c.label);
    EXPECT_TRUE(ValidateStatus("anti-virus", v.label).ok());
    if (*c.signature) {
      EXPECT_EQ(v.details["signature"], c.signature);
      EXPECT_EQ(v.detail, c.signature);
    } else {
      EXPECT_EQ(v.details.count("signature"), 0u);
    }
    EXPECT_LE(v.error.size(), 1024u);
    if (*c.error) {
      EXPECT_NE(v.error.find(c.error), std::string::npos) << v.error;
    } else {
      EXPECT_EQ(v.error, "");
    }
  }
}

TEST(ParseClamdVersionReply, Accepts) {
  struct Case {
    std::string reply;
    const char* engine;
    const char* db_version;
    const char* date;
  } cases[] = {
      {kVersion, "1.4.6", "27456", "2026-11-20"},
      {"ClamAV 1.4.6/27456/Thu Nov 20 08:25:44 2026\n", "1.4.6", "27456", "2026-11-20"},
      {"ClamAV 0.103.8/26000/Mon Jan  2 09:10:11 2023", "0.103.8", "26000", "2023-01-02"},
      {"ClamAV 1.0.0/1/Sat Dec 31 23:59:59 2022", "1.0.0", "1", "2022-12-31"},
      {"ClamAV 1.4.6", "1.4.6", "", ""},
      {"ClamAV 1.4.6\n", "1.4.6", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reply);
    auto v = ParseClamdVersionReply(c.reply);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->engine, c.engine);
    EXPECT_EQ(v->database_version, c.db_version);
    EXPECT_EQ(v->database_date, c.date);
  }
}

TEST(ParseClamdVersionReply, Rejects) {
  for (const std::string reply :
       {"", "ClamAV", "ClamAV ", "clamav 1.4.6", "ERROR", "Can't load databases ERROR",
        "ClamAV 1.4.6/27456", "ClamAV 1.4.6/abc/Thu Nov 20 08:25:44 2026",
        "ClamAV 1.4.6//Thu Nov 20 08:25:44 2026", "ClamAV 1.4.6/27456/yesterday",
        "ClamAV 1.4.6/27456/Thu Foo 20 08:25:44 2026",
        "ClamAV 1.4.6/27456/Thu Nov 32 08:25:44 2026", "ClamAV 1.4.6/27456/Thu Nov 20 08:25 2026",
        "ClamAV 1.4.6/27456/Thu Nov 20 08:25:44 26",
        "ClamAV 1.4.6/27456/Thu Nov 20 08:25:44 2026 extra",
        "ClamAV 1.4.6/27456/Xyz Nov 20 08:25:44 2026", "ClamAV 1 4/27456/Thu Nov 20 08:25:44 2026",
        "ClamAV 1.4.6\x01"}) {
    SCOPED_TRACE(reply);
    auto v = ParseClamdVersionReply(reply);
    ASSERT_FALSE(v.ok());
    EXPECT_TRUE(v.status().IsCorruption());
  }
}

TEST(ClamdEngine, MakeValidates) {
  for (const char* good : {"unix:/run/clamav/clamd.ctl", "tcp:127.0.0.1:3310", "tcp:[::1]:3310",
                           "tcp:localhost:3310"}) {
    ClamdOptions o;
    o.address = good;
    auto e = ClamdEngine::Make(o);
    ASSERT_TRUE(e.ok()) << good << ": " << e.status().ToString();
    EXPECT_EQ((*e)->name(), "clamd");
    EXPECT_EQ((*e)->covers(), std::vector<std::string>{"anti-virus"});
  }
  for (const char* bad : {"", "/run/clamd.ctl", "unix:clamd.ctl", "tcp:127.0.0.1", "tcp:h:0",
                          "tcp:::1:3310", "http://127.0.0.1:3310"}) {
    ClamdOptions o;
    o.address = bad;
    auto e = ClamdEngine::Make(o);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
    EXPECT_NE(e.status().message().find("clamd"), std::string::npos);
  }
  ClamdOptions zero_timeout;
  zero_timeout.timeout_micros = 0;
  EXPECT_FALSE(ClamdEngine::Make(zero_timeout).ok());
  ClamdOptions zero_stream;
  zero_stream.max_stream = 0;
  EXPECT_FALSE(ClamdEngine::Make(zero_stream).ok());
}

// ---- I/O shell against a fake clamd -------------------------------------------

// Speaks clamd's z-commands on one listening socket, one connection at a time:
// reassembles INSTREAM streams (checking their framing) and answers with
// canned replies.
class FakeClamd {
 public:
  explicit FakeClamd(net::Endpoint at) : endpoint_(std::move(at)) {
    auto listener = net::Listen(endpoint_);
    if (!listener.ok()) {
      ADD_FAILURE() << listener.status().ToString();
      return;
    }
    listener_ = std::move(listener).value();
    if (endpoint_.kind == net::Endpoint::Kind::kTcp) endpoint_.port = listener_.LocalPort();
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeClamd() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::string address() const { return endpoint_.ToString(); }

  void set_scan_reply(std::string r) {
    std::lock_guard<std::mutex> l(mu_);
    scan_reply_ = std::move(r);
  }
  void set_ping_reply(std::string r) {
    std::lock_guard<std::mutex> l(mu_);
    ping_reply_ = std::move(r);
  }
  void set_version_reply(std::string r) {
    std::lock_guard<std::mutex> l(mu_);
    version_reply_ = std::move(r);
  }
  // Refuses streams longer than `n` bytes the way clamd does at
  // StreamMaxLength: answers at once and closes.
  void set_stream_limit(size_t n) { stream_limit_ = n; }

  std::string last_stream() {
    std::lock_guard<std::mutex> l(mu_);
    return last_stream_;
  }
  std::vector<size_t> last_chunks() {
    std::lock_guard<std::mutex> l(mu_);
    return last_chunks_;
  }
  int scans() const { return scans_; }
  int versions() const { return versions_; }
  std::vector<std::string> problems() {
    std::lock_guard<std::mutex> l(mu_);
    return problems_;
  }

 private:
  void Run() {
    while (!stop_) {
      auto conn = listener_.Accept(net::DeadlineAfter(20'000));
      if (conn.ok()) Serve(*conn);
    }
  }

  void Problem(std::string p) {
    std::lock_guard<std::mutex> l(mu_);
    problems_.push_back(std::move(p));
  }

  void Reply(net::Socket& conn, const std::string& text) {
    std::string msg = text;
    msg.push_back('\0');
    conn.WriteAll(msg, net::DeadlineAfter(5'000'000)).IgnoreError();
  }

  void Serve(net::Socket& conn) {
    auto deadline = net::DeadlineAfter(10'000'000);
    // Byte by byte: the stream follows the command without waiting.
    Result<std::string> command = std::string();
    while (command.ok() && command->size() < 100) {
      auto c = conn.ReadExactly(1, deadline);
      if (!c.ok()) {
        command = c.status();
      } else if ((*c)[0] == '\0') {
        break;
      } else {
        *command += *c;
      }
    }
    if (!command.ok()) return Problem("command: " + command.status().ToString());
    std::lock_guard<std::mutex> l(mu_);  // replies are read under the lock too
    if (*command == "zVERSION") {
      ++versions_;
      return Reply(conn, version_reply_);
    }
    if (*command == "zPING") return Reply(conn, ping_reply_);
    if (*command != "zINSTREAM") return Reply(conn, "UNKNOWN COMMAND");
    ++scans_;
    std::string stream;
    std::vector<size_t> chunks;
    for (;;) {
      auto header = conn.ReadExactly(4, deadline);
      if (!header.ok()) return problems_.push_back("chunk header: " + header.status().ToString());
      auto* h = reinterpret_cast<const unsigned char*>(header->data());
      size_t len = (size_t{h[0]} << 24) | (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | h[3];
      if (len == 0) break;
      auto data = conn.ReadExactly(len, deadline);
      if (!data.ok()) return problems_.push_back("chunk data: " + data.status().ToString());
      stream += *data;
      chunks.push_back(len);
      if (stream_limit_ && stream.size() > stream_limit_) {
        last_stream_ = stream;
        return Reply(conn, "INSTREAM size limit exceeded. ERROR");
      }
    }
    last_stream_ = std::move(stream);
    last_chunks_ = std::move(chunks);
    Reply(conn, scan_reply_);
  }

  net::Endpoint endpoint_;
  net::Socket listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> scans_{0};
  std::atomic<int> versions_{0};
  std::atomic<size_t> stream_limit_{0};
  std::mutex mu_;
  std::string scan_reply_ = "stream: OK";
  std::string version_reply_ = kVersion;
  std::string ping_reply_ = "PONG";
  std::string last_stream_;
  std::vector<size_t> last_chunks_;
  std::vector<std::string> problems_;
};

net::Endpoint UnixAt(const TempDir& dir) {
  return net::Endpoint{net::Endpoint::Kind::kUnix, dir.File("clamd.sock"), "", 0};
}
net::Endpoint LocalTcp() { return net::Endpoint{net::Endpoint::Kind::kTcp, "", "127.0.0.1", 0}; }

std::unique_ptr<ClamdEngine> Engine(const std::string& address, int64_t timeout_micros = 10'000'000,
                                    uint64_t max_stream = 25'000'000,
                                    ClamdEngine::NowMicros now = nullptr) {
  ClamdOptions o;
  o.address = address;
  o.timeout_micros = timeout_micros;
  o.max_stream = max_stream;
  auto e = ClamdEngine::Make(o, std::move(now));
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(e).value();
}

Verdict ScanOne(ClamdEngine& engine, std::string_view bytes) {
  StringSource src(bytes);
  Envelope env;
  auto verdicts = engine.Scan(Message{src, env});
  EXPECT_EQ(verdicts.size(), 1u);
  if (verdicts.empty()) return {};
  EXPECT_EQ(verdicts[0].engine, "anti-virus");
  EXPECT_TRUE(ValidateStatus("anti-virus", verdicts[0].label).ok()) << verdicts[0].label;
  return verdicts[0];
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

TEST(ClamdEngine, CleanOverUnixSocketStreamsTheWholeMessage) {
  TempDir dir;
  FakeClamd fake(UnixAt(dir));
  auto engine = Engine(fake.address());
  const std::string msg = Pattern(200'000);  // several chunks
  Verdict v = ScanOne(*engine, msg);
  EXPECT_EQ(v.label, "not-detected") << v.error;
  EXPECT_EQ(v.error, "");
  EXPECT_EQ(v.details["database"], "2026-11-20");
  EXPECT_EQ(v.details["database_version"], "27456");
  EXPECT_TRUE(fake.last_stream() == msg);
  auto chunks = fake.last_chunks();
  ASSERT_GE(chunks.size(), 2u);
  for (size_t c : chunks) EXPECT_LE(c, 64u * 1024);
  EXPECT_EQ(fake.problems(), std::vector<std::string>{});
}

TEST(ClamdEngine, InfectedOverTcp) {
  FakeClamd fake(LocalTcp());
  fake.set_scan_reply("stream: Win.Test.EICAR_HDB-1 FOUND");
  auto engine = Engine(fake.address());
  Verdict v = ScanOne(*engine, "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR");
  EXPECT_EQ(v.label, "infected");
  EXPECT_EQ(v.details["signature"], "Win.Test.EICAR_HDB-1");
  EXPECT_EQ(v.detail, "Win.Test.EICAR_HDB-1");
  EXPECT_EQ(v.details["database"], "2026-11-20");
  EXPECT_EQ(fake.last_stream(), "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR");
}

TEST(ClamdEngine, EmptyMessageSendsOnlyTheEndMarker) {
  TempDir dir;
  FakeClamd fake(UnixAt(dir));
  auto engine = Engine(fake.address());
  EXPECT_EQ(ScanOne(*engine, "").label, "not-detected");
  EXPECT_EQ(fake.scans(), 1);
  EXPECT_EQ(fake.last_stream(), "");
  EXPECT_TRUE(fake.last_chunks().empty());
}

TEST(ClamdEngine, LargerThanMaxStreamSendsThePrefixAndSaysSo) {
  TempDir dir;
  FakeClamd fake(UnixAt(dir));
  auto engine = Engine(fake.address(), 10'000'000, /*max_stream=*/100'000);
  const std::string msg = Pattern(250'000);
  Verdict v = ScanOne(*engine, msg);
  EXPECT_EQ(v.label, "not-detected");
  EXPECT_TRUE(fake.last_stream() == msg.substr(0, 100'000));
  EXPECT_NE(v.detail.find("scanned the first 100000 bytes of 250000 bytes"), std::string::npos)
      << v.detail;
  EXPECT_EQ(v.details["scanned_bytes"], "100000");
}

TEST(ClamdEngine, StreamRefusedByClamdIsNotScanned) {
  TempDir dir;
  FakeClamd fake(UnixAt(dir));
  fake.set_stream_limit(100'000);
  auto engine = Engine(fake.address());
  Verdict v = ScanOne(*engine, Pattern(2'000'000));
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_NE(v.error.find("clamd at unix:"), std::string::npos) << v.error;
  EXPECT_NE(v.error.find("INSTREAM size limit exceeded"), std::string::npos) << v.error;
}

TEST(ClamdEngine, VersionIsCachedForSixtySeconds) {
  FakeClamd fake(LocalTcp());
  std::atomic<int64_t> now{1'000'000};
  auto engine = Engine(fake.address(), 10'000'000, 25'000'000, [&] { return now.load(); });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ScanOne(*engine, "a").details["database"], "2026-11-20");
  EXPECT_EQ(fake.versions(), 1);
  EXPECT_EQ(fake.scans(), 3);
  fake.set_version_reply("ClamAV 1.4.6/27457/Fri Nov 21 08:25:44 2026");
  now += ClamdEngine::kVersionCacheMicros - 1;
  EXPECT_EQ(ScanOne(*engine, "a").details["database"], "2026-11-20");
  now += 1;
  Verdict v = ScanOne(*engine, "a");
  EXPECT_EQ(v.details["database"], "2026-11-21");
  EXPECT_EQ(v.details["database_version"], "27457");
  EXPECT_EQ(fake.versions(), 2);
}

TEST(ClamdEngine, NoDatabaseVersionIsBasesErrorUnlessSomethingWasFound) {
  TempDir dir;
  FakeClamd fake(UnixAt(dir));
  fake.set_version_reply("ClamAV 1.4.6");
  auto engine = Engine(fake.address());
  Verdict clean = ScanOne(*engine, "hello");
  EXPECT_EQ(clean.label, "bases-error");
  EXPECT_NE(clean.error.find("no signature database"), std::string::npos) << clean.error;
  EXPECT_EQ(clean.details.count("database"), 0u);

  fake.set_scan_reply("stream: Win.Test.EICAR_HDB-1 FOUND");
  Verdict found = ScanOne(*engine, "hello");
  EXPECT_EQ(found.label, "infected");
  EXPECT_EQ(found.error, "");
}

TEST(ClamdEngine, VersionErrorIsBasesError) {
  FakeClamd fake(LocalTcp());
  fake.set_version_reply("Can't load databases ERROR");
  auto engine = Engine(fake.address());
  Verdict v = ScanOne(*engine, "hello");
  EXPECT_EQ(v.label, "bases-error");
  EXPECT_NE(v.error.find("unexpected VERSION reply"), std::string::npos) << v.error;
}

TEST(ClamdEngine, ErrorReplyIsNotScanned) {
  FakeClamd fake(LocalTcp());
  fake.set_scan_reply("stream: Can't allocate memory ERROR");
  auto engine = Engine(fake.address());
  Verdict v = ScanOne(*engine, "hello");
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_EQ(v.error, "clamd at " + fake.address() + ": Can't allocate memory");
  EXPECT_EQ(fake.versions(), 0);  // no point asking for the database then
}

TEST(ClamdEngine, ConnectionRefusedIsNotScanned) {
  std::string address;
  {
    auto listener = net::Listen(LocalTcp());
    ASSERT_TRUE(listener.ok());
    address = "tcp:127.0.0.1:" + std::to_string(listener->LocalPort());
  }
  auto engine = Engine(address);
  Verdict v = ScanOne(*engine, "hello");
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_EQ(v.error, "clamd at " + address + ": connection refused");
}

// What mailvaultd asks at start (the engines it can reach).
TEST(ClamdEngine, PingAnswersWhetherClamdIsThere) {
  TempDir dir;
  {
    FakeClamd fake(UnixAt(dir));
    auto engine = Engine(fake.address());
    EXPECT_EQ(engine->address(), fake.address());
    EXPECT_TRUE(engine->Ping().ok());
    fake.set_ping_reply("NOPE");
    Status wrong = engine->Ping();
    EXPECT_FALSE(wrong.ok());
    EXPECT_NE(wrong.message().find("NOPE"), std::string::npos) << wrong.ToString();
    EXPECT_EQ(fake.scans(), 0);
  }
  auto gone = Engine("unix:" + dir.File("clamd.sock"))->Ping();
  EXPECT_FALSE(gone.ok());
}

TEST(ClamdEngine, MissingUnixSocketIsNotScanned) {
  TempDir dir;
  auto engine = Engine("unix:" + dir.File("clamd.sock"));
  Verdict v = ScanOne(*engine, "hello");
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_EQ(v.error, "clamd at unix:" + dir.File("clamd.sock") + ": no such file or directory");
}

TEST(ClamdEngine, SilentClamdTimesOut) {
  TempDir dir;
  // Listens (so connect succeeds) but never accepts nor answers.
  auto listener = net::Listen(UnixAt(dir));
  ASSERT_TRUE(listener.ok());
  auto engine = Engine("unix:" + dir.File("clamd.sock"), /*timeout_micros=*/300'000);
  Verdict v = ScanOne(*engine, Pattern(10'000'000));  // more than the socket buffers take
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_NE(v.error.find("timed out"), std::string::npos) << v.error;
  Verdict small = ScanOne(*engine, "hello");
  EXPECT_EQ(small.label, "not-scanned");
  EXPECT_NE(small.error.find("timed out waiting for a reply"), std::string::npos) << small.error;
}

TEST(ClamdEngine, ClosedWithoutReplyIsNotScanned) {
  TempDir dir;
  auto listener = net::Listen(UnixAt(dir));
  ASSERT_TRUE(listener.ok());
  std::thread closer([&] {
    auto conn = listener->Accept(net::DeadlineAfter(10'000'000));
    ASSERT_TRUE(conn.ok());
    conn->ReadUntil('\0', 100, net::DeadlineAfter(5'000'000)).status().IgnoreError();
  });  // conn closes here
  auto engine = Engine("unix:" + dir.File("clamd.sock"));
  Verdict v = ScanOne(*engine, "hi");
  closer.join();
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_FALSE(v.error.empty());
}

class FailingSource final : public ByteSource {
 public:
  uint64_t size() const override { return 100'000; }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    if (offset > 0) return Status::IOError("spool: bad sector");
    out->append(n, 'a');
    return Status::Ok();
  }
};

TEST(ClamdEngine, UnreadableMessageIsNotScanned) {
  TempDir dir;
  FakeClamd fake(UnixAt(dir));
  auto engine = Engine(fake.address());
  FailingSource src;
  Envelope env;
  auto v = engine->Scan(Message{src, env});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].label, "not-scanned");
  EXPECT_NE(v[0].error.find("spool: bad sector"), std::string::npos) << v[0].error;
}

TEST(ClamdEngine, ConcurrentScans) {
  FakeClamd fake(LocalTcp());
  auto engine = Engine(fake.address());
  std::vector<std::thread> threads;
  std::atomic<int> clean{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string msg = Pattern(1000 * (t + 1) + i);
        StringSource src(msg);
        Envelope env;
        auto v = engine->Scan(Message{src, env});
        if (v.size() == 1 && v[0].label == "not-detected") ++clean;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clean, 30);
  EXPECT_EQ(fake.scans(), 30);
  EXPECT_EQ(fake.problems(), std::vector<std::string>{});
}

}  // namespace
}  // namespace mailvault::scan
