// The milter codec: frames in any chunking, every command's layout, every
// malformed payload an error value, replies byte for byte.
#include "intake/milter_codec.h"

#include <gtest/gtest.h>

namespace mailvault::intake::milter {
namespace {

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

// A literal with its NULs.
template <size_t N>
std::string Bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

Result<Command> Decode(char cmd, std::string payload) {
  return DecodeCommand(Frame{cmd, std::move(payload)});
}

TEST(FrameDecoder, FramesInAnyChunking) {
  const std::string stream = EncodeFrame('O', U32(6) + U32(0x1ff) + U32(0)) + EncodeFrame('N', "") +
                             EncodeFrame('B', Bytes("a\0b\r\n"));
  for (size_t step : {1, 2, 3, 5, 7, 1000}) {
    FrameDecoder d;
    std::vector<Frame> got;
    for (size_t off = 0; off < stream.size(); off += step) {
      d.Feed(std::string_view(stream).substr(off, step));
      while (true) {
        auto f = d.Next();
        ASSERT_TRUE(f.ok()) << f.status().ToString();
        if (!f->has_value()) break;
        got.push_back(std::move(**f));
      }
    }
    ASSERT_EQ(got.size(), 3u) << "step " << step;
    EXPECT_EQ(got[0].cmd, 'O');
    EXPECT_EQ(got[0].payload.size(), 12u);
    EXPECT_EQ(got[1].cmd, 'N');
    EXPECT_EQ(got[1].payload, "");
    EXPECT_EQ(got[2].payload, Bytes("a\0b\r\n"));
    EXPECT_FALSE(d.partial());
  }
}

TEST(FrameDecoder, PartialFrameIsReported) {
  FrameDecoder d;
  d.Feed(std::string("\0\0", 2));
  auto f = d.Next();
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_value());
  EXPECT_TRUE(d.partial());
}

TEST(FrameDecoder, ZeroLengthIsAnErrorAndSticky) {
  FrameDecoder d;
  d.Feed(U32(0) + EncodeFrame('N', ""));
  auto f = d.Next();
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().ToString().find("length 0"), std::string::npos);
  EXPECT_FALSE(d.Next().ok());  // cannot resynchronise
}

TEST(FrameDecoder, OversizedLengthFailsBeforeThePayloadArrives) {
  FrameDecoder d;
  d.Feed(U32(kMaxFrame + 1) + "B");
  EXPECT_FALSE(d.Next().ok());
  FrameDecoder d2;
  d2.Feed(U32(0xffffffff));
  EXPECT_FALSE(d2.Next().ok());
  FrameDecoder d3;  // the largest allowed is fine (and needs all its bytes)
  d3.Feed(U32(kMaxFrame) + "B");
  auto f = d3.Next();
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_value());
}

TEST(DecodeCommand, Optneg) {
  auto c = Decode('O', U32(6) + U32(0x1ff) + U32(0x1fffff));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->cmd, Cmd::kOptneg);
  EXPECT_EQ(c->version, 6u);
  EXPECT_EQ(c->actions, 0x1ffu);
  EXPECT_EQ(c->protocol, 0x1fffffu);
  EXPECT_FALSE(Decode('O', Bytes("\0\0\0\6")).ok());
  EXPECT_FALSE(Decode('O', "").ok());
}

TEST(DecodeCommand, Macro) {
  auto c = Decode('D', Bytes("Ei\0ABC123\0{auth_type}\0\0"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->macro_for, 'E');
  ASSERT_EQ(c->macros.size(), 2u);
  EXPECT_EQ(c->macros[0].first, "i");
  EXPECT_EQ(c->macros[0].second, "ABC123");
  EXPECT_EQ(c->macros[1].second, "");
  auto empty = Decode('D', "C");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->macros.empty());
  EXPECT_FALSE(Decode('D', "").ok());
  EXPECT_FALSE(Decode('D', Bytes("Ei\0ABC")).ok());  // value without NUL
  EXPECT_FALSE(Decode('D', Bytes("Ei")).ok());       // name without NUL
}

TEST(DecodeCommand, Connect) {
  auto c = Decode('C', Bytes("mx.example.org\0"
                             "4\x01\x19"
                             "203.0.113.5\0"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->hostname, "mx.example.org");
  EXPECT_EQ(c->family, '4');
  EXPECT_EQ(c->port, 0x119);
  EXPECT_EQ(c->address, "203.0.113.5");
  auto unknown = Decode('C', Bytes("localhost\0U"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->family, 'U');
  EXPECT_EQ(unknown->address, "");
  EXPECT_FALSE(Decode('C', Bytes("host\0")).ok());  // no family
  EXPECT_FALSE(Decode('C', Bytes("host\0"
                                 "4\x01"))
                   .ok());  // short port
  EXPECT_FALSE(Decode('C', Bytes("host\0"
                                 "4\x01\x19"
                                 "1.2.3.4"))
                   .ok());  // no NUL
  EXPECT_FALSE(Decode('C', Bytes("host\0"
                                 "X\x01\x19"
                                 "1.2.3.4\0"))
                   .ok());
  EXPECT_FALSE(Decode('C', "host").ok());
}

TEST(DecodeCommand, EnvelopeArgumentsAreBytes) {
  auto m = Decode('M', Bytes("<m\xfcller@example.org>\0SIZE=10\0"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->cmd, Cmd::kMail);
  ASSERT_EQ(m->args.size(), 2u);
  EXPECT_EQ(m->args[0], "<m\xfcller@example.org>");
  EXPECT_EQ(m->args[1], "SIZE=10");
  EXPECT_FALSE(Decode('M', "").ok());
  EXPECT_FALSE(Decode('R', Bytes("<a@b>\0x")).ok());
  auto h = Decode('H', Bytes("mx\0"));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->args[0], "mx");
  EXPECT_FALSE(Decode('H', "mx").ok());
  EXPECT_FALSE(Decode('U', "").ok());
}

TEST(DecodeCommand, Header) {
  auto c = Decode('L', Bytes("Subject\0 hi\n\tthere\0"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "Subject");
  EXPECT_EQ(c->value, " hi\n\tthere");
  EXPECT_FALSE(Decode('L', Bytes("Subject\0hi")).ok());
  EXPECT_FALSE(Decode('L', Bytes("Subject")).ok());
  EXPECT_FALSE(Decode('L', Bytes("\0hi\0")).ok());
}

TEST(DecodeCommand, BodyAndBareCommands) {
  auto b = Decode('B', Bytes("\0\xff\r\n"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->body, Bytes("\0\xff\r\n"));
  auto e = Decode('E', "tail");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->cmd, Cmd::kBodyEob);
  EXPECT_EQ(e->body, "tail");
  for (char k : {'T', 'N', 'A', 'Q', 'K'}) {
    auto c = Decode(k, "");
    ASSERT_TRUE(c.ok()) << k;
    EXPECT_EQ(static_cast<char>(c->cmd), k);
  }
}

TEST(DecodeCommand, UnknownCommandIsAnError) {
  for (char k : {'\0', 'Z', 'c', '\xff'}) EXPECT_FALSE(Decode(k, "").ok()) << int(k);
}

TEST(Encode, Replies) {
  EXPECT_EQ(EncodeContinue(), Bytes("\0\0\0\1c"));
  EXPECT_EQ(EncodeAccept(), Bytes("\0\0\0\1a"));
  EXPECT_EQ(EncodeReject(), Bytes("\0\0\0\1r"));
  EXPECT_EQ(EncodeTempfail(), Bytes("\0\0\0\1t"));
  EXPECT_EQ(EncodeDiscard(), Bytes("\0\0\0\1d"));
  EXPECT_EQ(EncodeProgress(), Bytes("\0\0\0\1p"));
  EXPECT_EQ(EncodeOptnegReply(6, 0x1b, 0x1c0300),
            Bytes("\0\0\0\x0dO") + U32(6) + U32(0x1b) + U32(0x1c0300));
  EXPECT_EQ(EncodeAddHeader("X-A", " v"), Bytes("\0\0\0\x08hX-A\0 v\0"));
  EXPECT_EQ(EncodeChangeHeader(1, "S", ""), Bytes("\0\0\0\x08m") + U32(1) + Bytes("S\0\0"));
  EXPECT_EQ(EncodeInsertHeader(0, "S", "v"), Bytes("\0\0\0\x09i") + U32(0) + Bytes("S\0v\0"));
  EXPECT_EQ(EncodeDeleteRcpt("<b@x>"), Bytes("\0\0\0\x07-<b@x>\0"));
  EXPECT_EQ(EncodeReplaceBody(Bytes("a\0")), Bytes("\0\0\0\3ba\0"));
}

TEST(Encode, ReplyCode) {
  auto y = EncodeReplyCode("550", "5.7.1", "no\r\nway");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y, EncodeFrame('y', Bytes("550 5.7.1 no  way\0")));
  auto t = EncodeReplyCode("451", "", "later");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, EncodeFrame('y', Bytes("451 later\0")));
  EXPECT_FALSE(EncodeReplyCode("250", "2.0.0", "x").ok());
  EXPECT_FALSE(EncodeReplyCode("55", "", "x").ok());
  EXPECT_FALSE(EncodeReplyCode("550", "4.7.1", "x").ok());
  EXPECT_FALSE(EncodeReplyCode("550", "5.7.1 x", "x").ok());
}

TEST(SplitFrames, WholeFramesOnly) {
  auto ok = SplitFrames(EncodeContinue() + EncodeAddHeader("A", "b"));
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].cmd, 'h');
  EXPECT_FALSE(SplitFrames(EncodeContinue() + std::string(1, '\0')).ok());
}

}  // namespace
}  // namespace mailvault::intake::milter
