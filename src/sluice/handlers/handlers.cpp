#include "sluice/handlers/handlers.hpp"

#include <string>

#include "sluice/handlers/builtin/copy_handler.hpp"
#include "sluice/handlers/serratus/summary_handler.hpp"
#include "sluice/handlers/wibl/submit_handler.hpp"
#include "sluice/handlers/wibl/validate_handler.hpp"
#include "sluice/handlers/wibl/wibl_process_handler.hpp"

namespace sluice {

void RegisterBuiltinHandlers(HandlerRegistry& registry) {
  registry.Register(std::string(builtin::kCopyHandlerName), builtin::MakeCopyHandler);
  registry.Register(std::string(builtin::kNoopHandlerName), builtin::MakeNoopHandler);
  registry.Register(std::string(serratus::kSummaryHandlerName), serratus::MakeSummaryHandler);
  registry.Register(std::string(wibl::kValidateHandlerName), wibl::MakeValidateHandler);
  registry.Register(std::string(wibl::kSubmitHandlerName), wibl::MakeSubmitHandler);
  registry.Register(std::string(wibl::kProcessHandlerName), wibl::MakeProcessHandler);
}

}  // namespace sluice
