#include "sluice/handlers/handlers.hpp"

#include <string>

#include "sluice/handlers/serratus/summary_handler.hpp"

namespace sluice {

void RegisterBuiltinHandlers(HandlerRegistry& registry) {
  registry.Register(std::string(serratus::kSummaryHandlerName), serratus::MakeSummaryHandler);
}

}  // namespace sluice
