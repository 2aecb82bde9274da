#include "sluice/engine/handler.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sluice {

ObjectStore* Resources::FindStore(std::string_view name) const {
  const auto it = stores.find(name);
  return it == stores.end() ? nullptr : it->second.get();
}

TableStore* Resources::FindTable(std::string_view name) const {
  const auto it = tables.find(name);
  return it == tables.end() ? nullptr : it->second.get();
}

HandlerContext::HandlerContext(std::string route, std::string job_id,
                               std::chrono::steady_clock::time_point deadline,
                               const std::atomic<bool>* cancelled,
                               const std::atomic<bool>* deadline_passed)
    : route_(std::move(route)), job_id_(std::move(job_id)), deadline_(deadline),
      cancelled_(cancelled), deadline_passed_(deadline_passed) {}

bool HandlerContext::Cancelled() const {
  return (cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed)) ||
         (deadline_passed_ != nullptr && deadline_passed_->load(std::memory_order_relaxed)) ||
         std::chrono::steady_clock::now() > deadline_;
}

void HandlerRegistry::Register(std::string name, HandlerFactory factory) {
  factories_[std::move(name)] = std::move(factory);
}

Result<std::unique_ptr<Handler>> HandlerRegistry::Create(std::string_view name,
                                                         const Options& options,
                                                         const Resources& resources) const {
  const auto it = factories_.find(name);
  if (it == factories_.end()) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("unknown handler '{}'; known handlers: {}", name,
                            fmt::join(Names(), ", ")));
  }
  return it->second(options, resources);
}

std::vector<std::string> HandlerRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

}  // namespace sluice
