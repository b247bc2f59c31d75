#include "mailvault/delivery.h"

#include <gtest/gtest.h>

namespace mailvault {
namespace {

TEST(Delivery, StateNamesRoundTrip) {
  for (DeliveryState s :
       {DeliveryState::kQueued, DeliveryState::kSending, DeliveryState::kDelivered,
        DeliveryState::kDeferred, DeliveryState::kFailed}) {
    EXPECT_EQ(ParseDeliveryState(DeliveryStateName(s)), s);
  }
  EXPECT_EQ(DeliveryStateName(DeliveryState::kDeferred), "deferred");
  EXPECT_FALSE(ParseDeliveryState("Delivered").has_value());
  EXPECT_FALSE(ParseDeliveryState("").has_value());
}

TEST(Delivery, FormatNamesRoundTrip) {
  EXPECT_EQ(ParseDeliveryFormat("as-is"), DeliveryFormat::kAsIs);
  EXPECT_EQ(ParseDeliveryFormat("as-attachment"), DeliveryFormat::kAsAttachment);
  EXPECT_EQ(DeliveryFormatName(DeliveryFormat::kAsAttachment), "as-attachment");
  EXPECT_FALSE(ParseDeliveryFormat("attachment").has_value());
}

}  // namespace
}  // namespace mailvault
