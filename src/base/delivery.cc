// Names of the delivery queue's states and formats (mailvault/delivery.h).
#include "mailvault/delivery.h"

namespace mailvault {
namespace {

constexpr std::string_view kStateNames[] = {"queued", "sending", "delivered", "deferred", "failed"};
constexpr std::string_view kFormatNames[] = {"as-is", "as-attachment"};

}  // namespace

std::string_view DeliveryStateName(DeliveryState state) {
  return kStateNames[static_cast<int>(state)];
}

std::optional<DeliveryState> ParseDeliveryState(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (kStateNames[i] == name) return static_cast<DeliveryState>(i);
  }
  return std::nullopt;
}

std::string_view DeliveryFormatName(DeliveryFormat format) {
  return kFormatNames[static_cast<int>(format)];
}

std::optional<DeliveryFormat> ParseDeliveryFormat(std::string_view name) {
  for (int i = 0; i < 2; ++i) {
    if (kFormatNames[i] == name) return static_cast<DeliveryFormat>(i);
  }
  return std::nullopt;
}

}  // namespace mailvault
