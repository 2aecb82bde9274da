#pragma once
/// Registration of the handlers built into sluice (DESIGN.md, "The five pipelines it replaces").
/// Each pipeline's folder under handlers/ provides a factory; this file names them.

#include "sluice/engine/handler.hpp"

namespace sluice {

/// Registers every built-in handler in `registry`: "copy" and "noop"
/// (handlers/builtin/copy_handler.hpp), "serratus-summary"
/// (handlers/serratus/summary_handler.hpp), "wibl-process" (handlers/wibl/wibl_process_handler.hpp),
/// "wibl-validate" (handlers/wibl/validate_handler.hpp) and "wibl-submit"
/// (handlers/wibl/submit_handler.hpp). Call once at start-up, before handlers are created;
/// not thread-safe (HandlerRegistry::Register is not).
void RegisterBuiltinHandlers(HandlerRegistry& registry);

}  // namespace sluice
