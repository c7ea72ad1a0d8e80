// `flareq healthcheck`: asks a running flareq's /readyz, for container
// health checks that have no curl. Runs on the calling thread.
#pragma once

#include <chrono>
#include <string>

#include "server/config.hpp"

namespace flareq {

// Asks http://host:port/readyz (a wildcard host means this machine) and
// returns 0 when it answers 200, else 1 with the reason written to stderr.
int run_healthcheck(const config& settings, std::chrono::milliseconds timeout);

}  // namespace flareq
