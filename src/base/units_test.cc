#include "base/units.h"

#include <gtest/gtest.h>

namespace mailvault {
namespace {

TEST(Units, ParsesSizes) {
  EXPECT_EQ(ParseSize("7.32GB").value(), 7320000000ull);
  EXPECT_EQ(ParseSize("100MB").value(), 100000000ull);
  EXPECT_EQ(ParseSize("1KiB").value(), 1024ull);
  EXPECT_EQ(ParseSize(" 42 ").value(), 42ull);
  EXPECT_FALSE(ParseSize("lots").ok());
  EXPECT_FALSE(ParseSize("5 parsecs").ok());
}

TEST(Units, ParsesDurations) {
  EXPECT_EQ(ParseDurationMicros("30s").value(), 30000000);
  EXPECT_EQ(ParseDurationMicros("250ms").value(), 250000);
  EXPECT_EQ(ParseDurationMicros("2h").value(), 7200000000);
  EXPECT_FALSE(ParseDurationMicros("soon").ok());
}

TEST(Units, PositiveSizesAndDurations) {
  EXPECT_EQ(ParsePositiveSize("1KB").value(), 1000ull);
  EXPECT_EQ(ParsePositiveSize("0").status().message(), "must be more than 0");
  EXPECT_EQ(ParsePositiveSize("0.0001").status().message(), "must be more than 0");
  EXPECT_FALSE(ParsePositiveSize("lots").ok());
  EXPECT_EQ(ParsePositiveDuration("1ms").value(), 1000);
  EXPECT_EQ(ParsePositiveDuration("0s").status().message(), "must be more than 0");
  EXPECT_FALSE(ParsePositiveDuration("-1s").ok());
  EXPECT_EQ(CheckPositiveDuration(-1).message(), "must be more than 0");
  EXPECT_EQ(ParsePositiveDuration("101y").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParsePositiveDuration("6000w").status().message(), "must be at most 100 years");
  // Beyond int64: refused, not undefined behaviour.
  EXPECT_FALSE(ParseDurationMicros("1e300s").ok());
  EXPECT_TRUE(CheckPositiveDuration(1).ok());
  EXPECT_FALSE(CheckPositiveDuration(0).ok());
  EXPECT_FALSE(CheckPositiveSize(0).ok());
}

TEST(Units, RoundTripsRfc3339) {
  auto t = ParseRfc3339("2026-11-22T08:17:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-22T08:17:00Z");
  EXPECT_EQ(ParseRfc3339("2026-11-22T09:17:00+01:00").value(), *t);
  EXPECT_EQ(FormatRfc3339(ParseRfc3339("2026-11-22T08:17:00.5Z").value()),
            "2026-11-22T08:17:00.500000Z");
  EXPECT_EQ(ParseRfc3339("2026-11-22").value(), ParseRfc3339("2026-11-22T00:00:00Z").value());
  EXPECT_FALSE(ParseRfc3339("yesterday").ok());
  EXPECT_FALSE(ParseRfc3339("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-22T08:17:00").ok());
}

TEST(Units, FormatsSizesForHumans) {
  EXPECT_EQ(FormatSize(7320000000ull), "7.32 GB");
  EXPECT_EQ(FormatSize(512), "512 B");
}

}  // namespace
}  // namespace mailvault
