// ProcessUserName (see user_name.h).
#include "env/user_name.h"

#include <stdlib.h>
#include <unistd.h>

namespace mailvault {

std::string ProcessUserName() {
  for (const char* name : {"SUDO_USER", "USER"}) {
    const char* v = ::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return std::to_string(::getuid());
}

}  // namespace mailvault
