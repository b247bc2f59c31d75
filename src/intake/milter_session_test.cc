// The milter session state machine: negotiation, a whole message, the
// replies of each outcome, "no reply" stages, and every out-of-order
// command a protocol error that closes the session. The decision is a fake
// (the Processor has tests of its own); the spool is the real one.
#include "intake/milter_session.h"

#include <gtest/gtest.h>

#include "testutil/temp_dir.h"

namespace mailvault::intake {
namespace {

using milter::Cmd;
using State = MilterSession::State;

template <size_t N>
std::string Bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

constexpr uint32_t kAllActions = 0x1ff;
constexpr uint32_t kAllNoReply =
    milter::SMFIP_NR_CONN | milter::SMFIP_NR_HELO | milter::SMFIP_NR_MAIL | milter::SMFIP_NR_RCPT |
    milter::SMFIP_NR_HDR | milter::SMFIP_NR_EOH | milter::SMFIP_NR_BODY;

// What the fake decision saw.
struct Seen {
  Received r;
  std::string raw;
};

class SessionTest : public ::testing::Test {
 protected:
  SessionTest()
      : session_(*PosixEnv(), dir_.path(), [this](const Received& r) {
          Seen s{r, ""};
          EXPECT_TRUE(r.raw->ReadAt(0, r.raw->size(), &s.raw).ok());
          s.r.raw = nullptr;
          seen_.push_back(std::move(s));
          return outcome_;
        }) {}

  // Sends one command, through the codec (frame -> command).
  MilterSession::Step Send(char cmd, std::string payload = "") {
    auto c = milter::DecodeCommand(milter::Frame{cmd, std::move(payload)});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return session_.Handle(*c);
  }
  // The command bytes of the frames of a step's reply.
  static std::string Cmds(const MilterSession::Step& s) {
    auto frames = milter::SplitFrames(s.reply);
    EXPECT_TRUE(frames.ok());
    std::string out;
    for (const auto& f : *frames) out += f.cmd;
    return out;
  }

  MilterSession::Step Negotiate(uint32_t protocol = 0, uint32_t actions = kAllActions) {
    return Send('O', U32(6) + U32(actions) + U32(protocol));
  }
  void UpToRcpt(uint32_t protocol = 0) {
    ASSERT_FALSE(Negotiate(protocol).close);
    ASSERT_FALSE(Send('C', Bytes("mx.example.org\0"
                                 "4\0\x19"
                                 "203.0.113.5\0"))
                     .close);
    ASSERT_FALSE(Send('H', Bytes("helo.example.org\0")).close);
    ASSERT_FALSE(Send('M', Bytes("<a@example.org>\0SIZE=5\0")).close);
    ASSERT_FALSE(Send('R', Bytes("<b@example.com>\0")).close);
  }
  MilterSession::Step Eom(std::string qid = "QID1") {
    Send('D', "Ei" + std::string(1, '\0') + qid + std::string(1, '\0'));
    return Send('E');
  }

  TempDir dir_;
  Outcome outcome_;
  std::vector<Seen> seen_;
  MilterSession session_;
};

TEST_F(SessionTest, NegotiatesWhatLibmilterNegotiated) {
  auto s = Send('O', U32(6) + U32(kAllActions) + U32(0x3fffff));
  ASSERT_FALSE(s.close);
  auto frames = milter::SplitFrames(s.reply);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 1u);
  EXPECT_EQ((*frames)[0].cmd, 'O');
  EXPECT_EQ((*frames)[0].payload, U32(6) +
                                      U32(milter::SMFIF_ADDHDRS | milter::SMFIF_CHGHDRS |
                                          milter::SMFIF_CHGBODY | milter::SMFIF_DELRCPT) +
                                      U32(milter::SMFIP_HDR_LEADSPC | kAllNoReply |
                                          milter::SMFIP_NOUNKNOWN | milter::SMFIP_NODATA));
  EXPECT_EQ(session_.state(), State::kNegotiated);
}

TEST_F(SessionTest, HigherVersionIsAnsweredWithSixLowerWithItself) {
  auto s = Send('O', U32(99) + U32(0) + U32(0));
  EXPECT_EQ(s.reply.substr(5, 4), U32(6));
  MilterSession other(*PosixEnv(), dir_.path(), [](const Received&) { return Outcome(); });
  auto c = milter::DecodeCommand({'O', U32(2) + U32(0) + U32(0)});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(other.Handle(*c).reply.substr(5, 4), U32(2));
}

TEST_F(SessionTest, VersionBelowTwoIsAProtocolError) {
  for (uint32_t v : {0u, 1u}) {
    MilterSession s(*PosixEnv(), dir_.path(), [](const Received&) { return Outcome(); });
    auto c = milter::DecodeCommand({'O', U32(v) + U32(0x1ff) + U32(0)});
    ASSERT_TRUE(c.ok());
    auto step = s.Handle(*c);
    EXPECT_TRUE(step.close);
    EXPECT_FALSE(step.error.ok());
    EXPECT_TRUE(step.reply.empty());
  }
}

TEST_F(SessionTest, WholeMessageEveryStageAnswered) {
  UpToRcpt();
  EXPECT_EQ(Cmds(Send('L', Bytes("Subject\0hello\0"))), "c");
  EXPECT_EQ(Cmds(Send('L', Bytes("X-Long\0a\n\tb\0"))), "c");
  EXPECT_EQ(Cmds(Send('N')), "c");
  EXPECT_EQ(session_.state(), State::kEoh);
  EXPECT_EQ(Cmds(Send('B', Bytes("body \xff\0 bytes\r\n"))), "c");
  outcome_.add_headers = {{"X-Mailvault-Status", "kept"}};
  auto s = Eom();
  EXPECT_FALSE(s.close);
  EXPECT_EQ(Cmds(s), "hc");
  ASSERT_EQ(seen_.size(), 1u);
  const Seen& m = seen_[0];
  EXPECT_EQ(m.r.envelope.client_ip, "203.0.113.5");
  EXPECT_EQ(m.r.envelope.client_hostname, "mx.example.org");
  EXPECT_EQ(m.r.envelope.helo, "helo.example.org");
  EXPECT_EQ(m.r.envelope.mail_from, "a@example.org");
  EXPECT_EQ(m.r.envelope.rcpt, std::vector<std::string>{"b@example.com"});
  EXPECT_EQ(m.r.envelope.queue_id, "QID1");
  EXPECT_EQ(m.r.subject, "hello");
  EXPECT_GT(m.r.received_at, 0);
  EXPECT_EQ(m.raw, Bytes("Subject: hello\r\nX-Long: a\r\n\tb\r\n\r\nbody \xff\0 bytes\r\n"));
  // Back to the connection state: the next message needs MAIL again.
  EXPECT_EQ(session_.state(), State::kHelo);
  EXPECT_TRUE(Send('B', "x").close);
}

TEST_F(SessionTest, NoReplyStagesAreSilent) {
  UpToRcpt(0x3fffff);
  EXPECT_EQ(Send('L', Bytes("Subject\0 hi\0")).reply, "");
  EXPECT_EQ(Send('N').reply, "");
  EXPECT_EQ(Send('B', "x").reply, "");
  outcome_.add_headers = {{"X-A", "v"}};
  auto s = Eom();
  auto frames = milter::SplitFrames(s.reply);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 2u);
  // Leading space negotiated: values are sent and taken as on the wire.
  EXPECT_EQ((*frames)[0].payload, Bytes("X-A\0 v\0"));
  EXPECT_EQ(seen_[0].raw, "Subject: hi\r\n\r\nx");
  EXPECT_EQ(seen_[0].r.subject, " hi");
}

TEST_F(SessionTest, ModificationsOnlyWhereNegotiated) {
  ASSERT_FALSE(Negotiate(0, milter::SMFIF_ADDHDRS).close);
  Send('C', Bytes("h\0U"));
  Send('M', Bytes("<a@x>\0"));
  Send('R', Bytes("<b@x>\0"));
  Send('R', Bytes("<c@x>\0"));
  outcome_.add_headers = {{"X-A", "v"}};
  outcome_.delete_rcpt = {"c@x"};
  outcome_.header_changes = {{"Content-Type", "text/plain"}};
  outcome_.new_body = "new";
  EXPECT_EQ(Cmds(Eom()), "hc");
  EXPECT_EQ(seen_[0].r.envelope.client_ip, "");
}

TEST_F(SessionTest, AcceptWithEveryChange) {
  UpToRcpt();
  Send('R', Bytes("<c@example.com>\0"));
  Send('L', Bytes("Subject\0hi\0"));
  Send('N');
  outcome_.delete_rcpt = {"c@example.com"};
  outcome_.header_changes = {{"Content-Type", "text/plain"}, {"X-Gone", ""}};
  outcome_.new_subject = "[spam] hi";
  outcome_.new_body = std::string(70000, 'x');
  auto s = Eom();
  auto frames = milter::SplitFrames(s.reply);
  ASSERT_TRUE(frames.ok());
  std::string cmds;
  for (const auto& f : *frames) cmds += f.cmd;
  EXPECT_EQ(cmds, "-mmmbbc");
  EXPECT_EQ((*frames)[0].payload, Bytes("<c@example.com>\0"));
  EXPECT_EQ((*frames)[2].payload, U32(1) + Bytes("X-Gone\0\0"));
  EXPECT_EQ((*frames)[3].payload, U32(1) + Bytes("Subject\0[spam] hi\0"));
  EXPECT_EQ((*frames)[4].payload.size() + (*frames)[5].payload.size(), 70000u);
}

TEST_F(SessionTest, FinalReplies) {
  UpToRcpt();
  outcome_.kind = Outcome::Kind::kReject;
  outcome_.rcode = "550";
  outcome_.xcode = "5.7.1";
  outcome_.text = "infected\r\nreally";
  auto s = Eom();
  auto frames = milter::SplitFrames(s.reply);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 1u);
  EXPECT_EQ((*frames)[0].cmd, 'y');
  EXPECT_EQ((*frames)[0].payload, Bytes("550 5.7.1 infected  really\0"));

  Send('M', Bytes("<a@x>\0"));
  Send('R', Bytes("<b@x>\0"));
  outcome_.kind = Outcome::Kind::kTempfail;
  outcome_.rcode = "4x1";  // not a reply code: a plain tempfail
  EXPECT_EQ(Cmds(Eom()), "t");

  Send('M', Bytes("<a@x>\0"));
  Send('R', Bytes("<b@x>\0"));
  outcome_.kind = Outcome::Kind::kDiscard;
  EXPECT_EQ(Cmds(Eom()), "d");
  EXPECT_EQ(seen_.size(), 3u);
}

TEST_F(SessionTest, EndOfMessageMayCarryTheLastChunk) {
  UpToRcpt();
  Send('N');
  Send('B', "one ");
  Send('D', Bytes("Ei\0Q\0"));
  EXPECT_EQ(Cmds(Send('E', "two")), "c");
  EXPECT_EQ(seen_[0].raw, "\r\none two");
}

TEST_F(SessionTest, ReleaseHeaderGetsABodyDigest) {
  UpToRcpt();
  Send('L', Bytes("X-Mailvault-Release\0v=1\0"));
  Send('N');
  Send('B', "x\r\n");
  Eom();
  EXPECT_EQ(seen_[0].r.release_header, "v=1");
  EXPECT_FALSE(seen_[0].r.body_digest.empty());
}

TEST_F(SessionTest, AbortGoesBackToTheConnection) {
  UpToRcpt();
  Send('L', Bytes("Subject\0one\0"));
  EXPECT_EQ(Send('A').reply, "");
  EXPECT_EQ(session_.state(), State::kHelo);
  EXPECT_FALSE(session_.message_open());
  EXPECT_TRUE(Send('N').close);  // the message is gone
}

TEST_F(SessionTest, MessageAfterAbortStartsClean) {
  UpToRcpt();
  Send('L', Bytes("Subject\0one\0"));
  Send('A');
  Send('M', Bytes("<z@x>\0"));
  Send('R', Bytes("<y@x>\0"));
  Send('N');
  Eom();
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].raw, "\r\n");
  EXPECT_EQ(seen_[0].r.envelope.mail_from, "z@x");
  EXPECT_FALSE(seen_[0].r.subject.has_value());
}

TEST_F(SessionTest, MacrosOfAMessageDoNotOutliveIt) {
  UpToRcpt();
  Eom("FIRST");
  Send('M', Bytes("<a@x>\0"));
  Send('R', Bytes("<b@x>\0"));
  Send('E');
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_[1].r.envelope.queue_id, "");
}

TEST_F(SessionTest, MailMacrosSentBeforeMailCount) {
  ASSERT_FALSE(Negotiate().close);
  Send('C', Bytes("h\0U"));
  Send('D', Bytes("M{i}\0MAILQID\0"));
  Send('M', Bytes("<a@x>\0"));
  Send('R', Bytes("<b@x>\0"));
  Send('E');
  EXPECT_EQ(seen_[0].r.envelope.queue_id, "MAILQID");
}

TEST_F(SessionTest, QuitNcStartsANewConnection) {
  UpToRcpt();
  EXPECT_EQ(Send('K').reply, "");
  EXPECT_EQ(session_.state(), State::kNegotiated);
  EXPECT_FALSE(Send('C', Bytes("h2\0U")).close);
  EXPECT_TRUE(Send('E').close);
}

TEST_F(SessionTest, QuitCloses) {
  ASSERT_FALSE(Negotiate().close);
  auto s = Send('Q');
  EXPECT_TRUE(s.close);
  EXPECT_TRUE(s.error.ok());
}

// Each: the commands before (all accepted), then the one out of order.
struct OutOfOrder {
  const char* name;
  std::vector<std::pair<char, std::string>> before;
  char cmd;
  std::string payload;
};

TEST_F(SessionTest, OutOfOrderCommandsCloseWithAReason) {
  const std::string opt = U32(6) + U32(kAllActions) + U32(0);
  const std::string conn = Bytes("h\0U");
  const std::vector<OutOfOrder> cases = {
      {"connect before optneg", {}, 'C', conn},
      {"macro before optneg", {}, 'D', Bytes("Ci\0x\0")},
      {"mail before optneg", {}, 'M', Bytes("<a@x>\0")},
      {"second optneg", {{'O', opt}}, 'O', opt},
      {"mail before connect", {{'O', opt}}, 'M', Bytes("<a@x>\0")},
      {"helo before connect", {{'O', opt}}, 'H', Bytes("x\0")},
      {"second connect", {{'O', opt}, {'C', conn}}, 'C', conn},
      {"eom before mail", {{'O', opt}, {'C', conn}, {'H', Bytes("x\0")}}, 'E', ""},
      {"body before mail", {{'O', opt}, {'C', conn}, {'H', Bytes("x\0")}}, 'B', "abc"},
      {"header before mail", {{'O', opt}, {'C', conn}}, 'L', Bytes("A\0b\0")},
      {"eoh before mail", {{'O', opt}, {'C', conn}}, 'N', ""},
      {"rcpt before mail", {{'O', opt}, {'C', conn}}, 'R', Bytes("<b@x>\0")},
      {"data before rcpt", {{'O', opt}, {'C', conn}, {'M', Bytes("<a@x>\0")}}, 'T', ""},
      {"body before rcpt", {{'O', opt}, {'C', conn}, {'M', Bytes("<a@x>\0")}}, 'B', "x"},
      {"eom before rcpt", {{'O', opt}, {'C', conn}, {'M', Bytes("<a@x>\0")}}, 'E', ""},
      {"header after body",
       {{'O', opt}, {'C', conn}, {'M', Bytes("<a@x>\0")}, {'R', Bytes("<b@x>\0")}, {'B', "x"}},
       'L',
       Bytes("A\0b\0")},
      {"rcpt after eoh",
       {{'O', opt}, {'C', conn}, {'M', Bytes("<a@x>\0")}, {'R', Bytes("<b@x>\0")}, {'N', ""}},
       'R',
       Bytes("<c@x>\0")},
  };
  for (const OutOfOrder& c : cases) {
    MilterSession s(*PosixEnv(), dir_.path(), [](const Received&) { return Outcome(); });
    for (const auto& [cmd, payload] : c.before) {
      auto d = milter::DecodeCommand({cmd, payload});
      ASSERT_TRUE(d.ok()) << c.name;
      ASSERT_FALSE(s.Handle(*d).close) << c.name << ": " << cmd;
    }
    auto d = milter::DecodeCommand({c.cmd, c.payload});
    ASSERT_TRUE(d.ok()) << c.name;
    auto step = s.Handle(*d);
    EXPECT_TRUE(step.close) << c.name;
    EXPECT_FALSE(step.error.ok()) << c.name;
    EXPECT_TRUE(step.reply.empty()) << c.name;
  }
}

}  // namespace
}  // namespace mailvault::intake
