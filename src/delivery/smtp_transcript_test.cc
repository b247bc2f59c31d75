#include "delivery/smtp_transcript.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailvault::delivery {
namespace {

// One conversation: lines starting "C: " are what the client sent, "S: "
// what the relay answered; each gets CRLF appended.
struct Case {
  std::string name;
  std::vector<std::string> conversation;
  int mail_from;
  std::vector<int> rcpt;
  int data;
  int last;
  std::string last_text = "";  // checked when not empty
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"simple success",
       {"S: 220 relay.test ESMTP", "C: EHLO client.test", "S: 250-relay.test",
        "S: 250-SIZE 1000000", "S: 250 8BITMIME", "C: MAIL FROM:<a@x.test> SIZE=10",
        "S: 250 2.1.0 Ok", "C: RCPT TO:<b@y.test>", "S: 250 2.1.5 Ok", "C: DATA",
        "S: 354 End data with <CR><LF>.<CR><LF>", "S: 250 2.0.0 Ok: queued as ABC"},
       250,
       {250},
       250,
       250,
       "250 2.0.0 Ok: queued as ABC"},
      {"one RCPT refused among three",
       {"S: 220 relay.test", "C: EHLO c", "S: 250 relay.test", "C: MAIL FROM:<a@x.test>",
        "S: 250 Ok", "C: RCPT TO:<b@y.test>", "S: 250 Ok", "C: RCPT TO:<nobody@y.test>",
        "S: 550 5.1.1 <nobody@y.test>: Recipient address rejected", "C: RCPT TO:<d@y.test>",
        "S: 250 Ok", "C: DATA", "S: 354 go", "S: 250 queued"},
       250,
       {250, 550, 250},
       250,
       250},
      {"MAIL refused",
       {"S: 220 relay.test", "C: EHLO c", "S: 250 relay.test", "C: MAIL FROM:<a@x.test>",
        "S: 553 5.7.1 Sender address rejected", "C: QUIT", "S: 221 Bye"},
       553,
       {},
       0,
       221},
      {"message refused after DATA",
       {"S: 220 relay.test", "C: EHLO c", "S: 250 relay.test", "C: MAIL FROM:<>", "S: 250 Ok",
        "C: RCPT TO:<b@y.test>", "S: 250 Ok", "C: DATA", "S: 354 go",
        "S: 552 5.3.4 Message size exceeds fixed limit"},
       250,
       {250},
       552,
       552,
       "552 5.3.4 Message size exceeds fixed limit"},
      {"DATA itself refused",
       {"S: 220 r", "C: EHLO c", "S: 250 r", "C: MAIL FROM:<a@x>", "S: 250 Ok", "C: RCPT TO:<b@y>",
        "S: 250 Ok", "C: DATA", "S: 554 5.5.1 Error: no valid recipients"},
       250,
       {250},
       554,
       554},
      {"multi-line replies",
       {"S: 220-relay.test ESMTP", "S: 220 no UCE", "C: EHLO c", "S: 250-relay.test", "S: 250 SIZE",
        "C: MAIL FROM:<a@x>", "S: 250 Ok", "C: RCPT TO:<b@y>", "S: 550-5.1.1 first line",
        "S: 550-5.1.1 second line", "S: 550 5.1.1 third line", "C: QUIT", "S: 221 Bye"},
       250,
       {550},
       0,
       221},
      {"reused connection: only the last transaction counts",
       {"S: 220 r", "C: EHLO c", "S: 250 r", "C: MAIL FROM:<a@x>", "S: 250 Ok", "C: RCPT TO:<b@y>",
        "S: 550 no", "C: RCPT TO:<c@y>", "S: 250 Ok", "C: DATA", "S: 354 go", "S: 250 first",
        "C: MAIL FROM:<d@x>", "S: 251 Ok again", "C: RCPT TO:<e@y>", "S: 452 4.5.3 later",
        "C: DATA", "S: 503 5.5.1 no recipients"},
       251,
       {452},
       503,
       503},
      {"transcript starts on a reused connection",
       {"C: MAIL FROM:<a@x>", "S: 250 Ok", "C: RCPT TO:<b@y>", "S: 250 Ok", "C: DATA", "S: 354 go",
        "S: 250 queued"},
       250,
       {250},
       250,
       250},
      {"malformed lines continue the reply, as in libcurl",
       {"S: 220 r", "C: EHLO c", "S: 250 r", "C: MAIL FROM:<a@x>", "S: garbage", "S: 25", "S: 250x",
        "S: 2501 no space", "S: 250 Ok", "C: RCPT TO:<b@y>", "S: 550-5.1.1 no",
        "S: 550 5.1.1 really"},
       250,
       {550},
       0,
       550,
       "550-5.1.1 no / 550 5.1.1 really"},
      {"bare code without text",
       {"S: 220 r", "C: HELO c", "S: 250", "C: mail from:<a@x>", "S: 250", "C: rcpt to:<b@y>",
        "S: 250", "C: data", "S: 354", "S: 250"},
       250,
       {250},
       250,
       250,
       "250"},
      {"greeting only, then disconnect", {"S: 554 5.7.1 go away"}, 0, {}, 0, 554},
      {"connection lost before MAIL's reply",
       {"S: 220 r", "C: EHLO c", "S: 250 r", "C: MAIL FROM:<a@x>", "S: 250 partial"},
       250,
       {},
       0,
       250},
      {"AUTH with 334 continuations",
       {"S: 220 r", "C: EHLO c", "S: 250-r", "S: 250 AUTH LOGIN", "C: AUTH LOGIN",
        "S: 334 VXNlcm5hbWU6", "C: UVVJVA==", "S: 334 UGFzc3dvcmQ6", "C: QUIT",
        "S: 235 2.7.0 Authentication successful", "C: MAIL FROM:<a@x>", "S: 250 Ok",
        "C: RCPT TO:<b@y>", "S: 250 Ok", "C: DATA", "S: 354 go", "S: 250 queued"},
       250,
       {250},
       250,
       250},
      {"AUTH refused; continuation lines that spell verbs are still AUTH",
       {"S: 220 r", "C: EHLO c", "S: 250 AUTH LOGIN", "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6",
        "C: MAIL", "S: 334 UGFzc3dvcmQ6", "C: RCPT", "S: 535 5.7.8 Authentication failed"},
       0,
       {},
       0,
       535,
       "535 5.7.8 Authentication failed"},
      {"unsolicited reply only reaches last",
       {"S: 220 r", "C: EHLO c", "S: 250 r", "S: 421 4.4.2 timeout"},
       0,
       {},
       0,
       421},
  };
  return cases;
}

// The pieces of `c`, in order; `sent` says which way each went.
struct Piece {
  bool sent;
  std::string bytes;
};

std::vector<Piece> Pieces(const Case& c) {
  std::vector<Piece> out;
  for (const auto& line : c.conversation) {
    out.push_back({line.starts_with("C: "), line.substr(3) + "\r\n"});
  }
  return out;
}

void Check(const Case& c, const SmtpTranscript& t) {
  SCOPED_TRACE(c.name);
  EXPECT_EQ(t.mail_from().code, c.mail_from);
  std::vector<int> rcpt;
  for (const auto& r : t.rcpt()) rcpt.push_back(r.code);
  EXPECT_EQ(rcpt, c.rcpt);
  EXPECT_EQ(t.data().code, c.data);
  EXPECT_EQ(t.last().code, c.last);
  if (!c.last_text.empty()) {
    EXPECT_EQ(t.last().text, c.last_text);
  }
}

TEST(SmtpTranscript, WholeLines) {
  for (const auto& c : Cases()) {
    SmtpTranscript t;
    for (const auto& p : Pieces(c)) {
      p.sent ? t.Sent(p.bytes) : t.Received(p.bytes);
    }
    Check(c, t);
  }
}

TEST(SmtpTranscript, ByteByByte) {
  for (const auto& c : Cases()) {
    SmtpTranscript t;
    for (const auto& p : Pieces(c)) {
      for (char b : p.bytes) {
        std::string_view one(&b, 1);
        p.sent ? t.Sent(one) : t.Received(one);
      }
    }
    Check(c, t);
  }
}

TEST(SmtpTranscript, RepliesInOnePieceAcrossLines) {
  // The relay's lines arrive glued together and cut mid-line.
  for (const auto& c : Cases()) {
    SmtpTranscript t;
    std::string pending;
    for (const auto& p : Pieces(c)) {
      if (!p.sent) {
        pending += p.bytes;
        continue;
      }
      for (size_t i = 0; i < pending.size(); i += 7) t.Received(pending.substr(i, 7));
      pending.clear();
      t.Sent(p.bytes);
    }
    t.Received(pending);
    Check(c, t);
  }
}

TEST(SmtpTranscript, ReplyText) {
  SmtpTranscript t;
  t.Received("220 r\r\n");
  t.Sent("MAIL FROM:<a@x>\r\n");
  t.Received("250 Ok\r\n");
  t.Sent("RCPT TO:<b@y>\r\n");
  t.Received("550-5.1.1 first\r\n550-5.1.1 tab\there\r\n550 5.1.1 last\x01\xff\r\n");
  ASSERT_EQ(t.rcpt().size(), 1u);
  EXPECT_EQ(t.mail_from().text, "250 Ok");
  EXPECT_EQ(t.rcpt()[0].text, "550-5.1.1 first / 550-5.1.1 tab?here / 550 5.1.1 last??");
  EXPECT_TRUE(t.rcpt()[0].permanent());
}

TEST(SmtpTranscript, MalformedLinesStayInTheReplyText) {
  SmtpTranscript t;
  t.Sent("MAIL FROM:<a@x>\r\n");
  t.Received("garbage\r\n250x\r\n2501\r\n250 Ok\r\n");
  EXPECT_EQ(t.mail_from().code, 250);
  EXPECT_EQ(t.mail_from().text, "garbage / 250x / 2501 / 250 Ok");
  // libcurl ends a reply at any 5-byte line with a code: "250x\n" as well.
  t.Sent("RCPT TO:<b@y>\r\n");
  t.Received("550x\n");
  ASSERT_EQ(t.rcpt().size(), 1u);
  EXPECT_EQ(t.rcpt()[0].code, 550);
}

TEST(SmtpTranscript, GreetingIsNotTakenForMailsReply) {
  SmtpTranscript t;
  t.Received("220 relay ESMTP\r\n");
  t.Sent("MAIL FROM:<>\r\n");
  EXPECT_EQ(t.mail_from().code, 0);
  EXPECT_EQ(t.last().code, 220);
}

TEST(SmtpTranscript, LongReplyIsClipped) {
  SmtpTranscript t;
  t.Sent("MAIL FROM:<a@x>\r\n");
  std::string line = "250-" + std::string(50'000, 'a') + "\r\n";
  for (int i = 0; i < 5; ++i) t.Received(line);
  t.Received("250 " + std::string(200'000, 'b') + "\r\n");
  EXPECT_EQ(t.mail_from().code, 250);
  EXPECT_EQ(t.mail_from().text.size(), SmtpTranscript::kMaxReplyText);
  EXPECT_TRUE(t.mail_from().text.starts_with("250-aaa"));
}

TEST(SmtpTranscript, LongLineEndsReplyByItsStart) {
  SmtpTranscript t;
  t.Sent("RSET\r\n");
  t.Sent("MAIL FROM:<a@x>\r\n");
  t.Received("250 " + std::string(100'000, 'x') + "\r\n");  // answers RSET
  t.Received("451 4.3.0 try later\r\n");
  EXPECT_EQ(t.mail_from().code, 451);
}

TEST(SmtpTranscript, CommandLimit) {
  SmtpTranscript t;
  t.Sent("MAIL FROM:<a@x>\r\n");
  t.Received("250 Ok\r\n");
  for (size_t i = 1; i < SmtpTranscript::kMaxCommands + 10; ++i) {
    t.Sent("RCPT TO:<r" + std::to_string(i) + "@y>\r\n");
    t.Received("250 Ok\r\n");
  }
  EXPECT_EQ(t.rcpt().size(), SmtpTranscript::kMaxCommands - 1);
  t.Sent("DATA\r\n");  // ignored: past the limit
  t.Received("354 go\r\n");
  t.Received("250 queued\r\n");
  EXPECT_EQ(t.data().code, 0);
  EXPECT_EQ(t.last().code, 250);
}

TEST(SmtpTranscript, VerbsAreWholeWordsAndCaseInsensitive) {
  SmtpTranscript t;
  t.Sent("MAILX FROM:<a@x>\r\n");
  t.Received("500 unknown\r\n");
  EXPECT_EQ(t.mail_from().code, 0);
  t.Sent("MaIl FROM:<a@x>\r\n");
  t.Received("250 Ok\r\n");
  EXPECT_EQ(t.mail_from().code, 250);
}

}  // namespace
}  // namespace mailvault::delivery
