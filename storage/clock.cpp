// The system clock (see clock.hpp).
#include "storage/clock.hpp"

#include <chrono>

namespace flareq::storage {

std::int64_t system_clock::now_us() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace flareq::storage
