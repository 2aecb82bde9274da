#include "sluice/handlers/builtin/copy_handler.hpp"

#include <string>

#include <fmt/format.h>

namespace sluice::builtin {
namespace {

class CopyHandler final : public Handler {
 public:
  CopyHandler(std::string store_name, std::string prefix, std::string strip_prefix,
              Resources resources)
      : store_name_(std::move(store_name)), prefix_(std::move(prefix)),
        strip_prefix_(std::move(strip_prefix)), resources_(std::move(resources)) {}

  // Every copy lands below `prefix` in the destination store (the self-trigger check's input).
  std::vector<OutputTarget> Outputs() const override { return {{store_name_, prefix_, ""}}; }

  Result<Outcome> Handle(const Event& event, HandlerContext& context) override {
    ObjectStore* source = resources_.FindStore(event.store);
    ObjectStore* destination = resources_.FindStore(store_name_);
    if (source == nullptr) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("event names store '{}', which the config does not define", event.store),
                  event.key);
    }
    std::string_view rest = event.key;
    if (rest.starts_with(strip_prefix_)) rest.remove_prefix(strip_prefix_.size());
    const std::string key = prefix_ + std::string(rest);
    const std::string where = fmt::format("{}/{} -> {}/{}", source->Url(), event.key,
                                          destination->Url(), key);
    if (source == destination && key == event.key) {
      return Fail(ErrorCode::InvalidArgument, "copy onto itself", where);
    }
    auto copied = source == destination ? source->Copy(event.key, key) : Stream(*source, event.key,
                                                                                *destination, key,
                                                                                context);
    if (!copied) return Fail(std::move(copied).error().WithContext(where));
    context.Emit(ObjectCreatedEvent(store_name_, *copied));
    Outcome outcome;
    outcome.objects_written = 1;
    if (source != destination) {  // a copy within one store moves no bytes through sluice
      outcome.bytes_read = copied->size_bytes;
      outcome.bytes_written = copied->size_bytes;
    }
    outcome.summary = fmt::format("{} ({} bytes)", where, copied->size_bytes);
    return outcome;
  }

 private:
  // Streams the object through a writer, which commits only on Close (an abandoned copy leaves
  // nothing behind).
  static Result<ObjectInfo> Stream(ObjectStore& source, std::string_view source_key,
                                   ObjectStore& destination, std::string_view key,
                                   const HandlerContext& context) {
    SLUICE_ASSIGN_OR_RETURN(auto writer, destination.OpenWriter(key));
    SLUICE_RETURN_IF_ERROR(source.GetTo(source_key, [&](std::string_view chunk) -> Status {
      if (context.Cancelled()) return Fail(ErrorCode::Cancelled, "cancelled during the copy");
      return writer->Write(chunk);
    }));
    return writer->Close();
  }

  const std::string store_name_;
  const std::string prefix_;
  const std::string strip_prefix_;
  const Resources resources_;
};

class NoopHandler final : public Handler {
 public:
  Result<Outcome> Handle(const Event& event, HandlerContext& /*context*/) override {
    Outcome outcome;
    outcome.summary = fmt::format("{}/{}: nothing done (noop)", event.store, event.key);
    return outcome;
  }
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeCopyHandler(const Options& options, const Resources& resources) {
  SLUICE_RETURN_IF_ERROR(options.CheckKeys({"store", "prefix", "strip_prefix"}));
  SLUICE_ASSIGN_OR_RETURN(const auto store, options.String("store"));
  if (!store) return Fail(options.MakeError("store", "is required (the destination store's name)"));
  if (resources.FindStore(*store) == nullptr) {
    return Fail(options.MakeError("store", fmt::format("unknown store '{}'", *store)));
  }
  SLUICE_ASSIGN_OR_RETURN(const auto prefix, options.String("prefix"));
  SLUICE_ASSIGN_OR_RETURN(const auto strip_prefix, options.String("strip_prefix"));
  return std::make_unique<CopyHandler>(*store, prefix.value_or(""), strip_prefix.value_or(""),
                                       resources);
}

Result<std::unique_ptr<Handler>> MakeNoopHandler(const Options& options,
                                                 const Resources& /*resources*/) {
  SLUICE_RETURN_IF_ERROR(options.CheckKeys({}));
  return std::make_unique<NoopHandler>();
}

}  // namespace sluice::builtin
