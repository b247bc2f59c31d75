// Tests of the mboxrd writer: separator lines, From-quoting, endings.
#include "base/mbox.h"

#include <gtest/gtest.h>

namespace mailvault {
namespace {

constexpr int64_t kT = 1'700'000'000'000'000;  // Tue Nov 14 22:13:20 2023 UTC

TEST(MboxTest, FromLine) {
  EXPECT_EQ(MboxFromLine("alice@example.com", kT),
            "From alice@example.com Tue Nov 14 22:13:20 2023\n");
  EXPECT_EQ(MboxFromLine("", kT), "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n");
  EXPECT_EQ(MboxFromLine("a b@x", 0), "From a_b@x Thu Jan  1 00:00:00 1970\n");
}

TEST(MboxTest, QuotesFromLinesMboxrd) {
  std::string out;
  AppendMboxrd(&out, "a@x", kT,
               "Subject: hi\n\nFrom here\n>From there\n>>From x\nFromage\n From y\n");
  EXPECT_EQ(out,
            "From a@x Tue Nov 14 22:13:20 2023\n"
            "Subject: hi\n\n>From here\n>>From there\n>>>From x\nFromage\n From y\n\n");
}

TEST(MboxTest, AddsMissingNewlineAndKeepsCrLf) {
  std::string out;
  AppendMboxrd(&out, "a@x", kT, "Subject: a\r\n\r\nFrom b\r\nlast");
  EXPECT_EQ(out,
            "From a@x Tue Nov 14 22:13:20 2023\n"
            "Subject: a\r\n\r\n>From b\r\nlast\n\n");
  std::string two;
  AppendMboxrd(&two, "a@x", kT, "A: 1\n\nx\n");
  AppendMboxrd(&two, "b@x", kT, "B: 2\n\ny\n");
  EXPECT_EQ(two.find("\n\nFrom b@x"), two.find("x\n\n") + 1);
}

}  // namespace
}  // namespace mailvault
