#include "mailvault/copy.h"

#include <gtest/gtest.h>

namespace mailvault {
namespace {

TEST(Copy, EngineBitsAreDistinct) {
  EXPECT_EQ(EngineBit("anti-virus").value(), 1u);
  EXPECT_EQ(EngineBit("external").value(), 64u);
  EXPECT_FALSE(EngineBit("anti-everything").ok());
}

TEST(Copy, ValidatesLabels) {
  EXPECT_TRUE(ValidateStatus("anti-virus", "infected").ok());
  EXPECT_TRUE(ValidateStatus("sender-auth", "dmarc-fail").ok());
  EXPECT_TRUE(ValidateStatus("external", "sandbox: ransomware").ok());
  EXPECT_FALSE(ValidateStatus("anti-virus", "spam").ok());
  EXPECT_FALSE(ValidateStatus("external", "").ok());
  EXPECT_FALSE(ValidateStatus("external", std::string("a\nb")).ok());
  EXPECT_FALSE(ValidateStatus("nope", "spam").ok());
}

}  // namespace
}  // namespace mailvault
