#include "sluice/handlers/wibl/validate_handler.hpp"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "sluice/handlers/wibl/csb_validate.hpp"
#include "sluice/handlers/wibl/handler_io.hpp"

namespace sluice::wibl {

namespace {

struct ValidateHandlerOptions {
  std::string store;   ///< empty: the event's store
  std::string output;  ///< empty: no output
  std::string output_prefix;
  bool semantic_checks = true;
  std::size_t max_listed = 10;
};

class ValidateHandler final : public Handler {
 public:
  ValidateHandler(ValidateHandlerOptions options, Resources resources)
      : options_(std::move(options)), resources_(std::move(resources)) {
    if (!options_.output.empty()) output_ = resources_.FindStore(options_.output);
  }

  // output_prefix + the input key, whose suffix is the route's, not known here.
  std::vector<OutputTarget> Outputs() const override {
    if (options_.output.empty()) return {};
    return {{options_.output, options_.output_prefix, ""}};
  }

  Result<Outcome> Handle(const Event& event, HandlerContext& context) override {
    const std::string& store_name = options_.store.empty() ? event.store : options_.store;
    SLUICE_ASSIGN_OR_RETURN(internal::LoadedObject object,
                            internal::LoadObject(resources_, store_name, event.key));

    CsbValidateOptions validate;
    validate.semantic_checks = options_.semantic_checks;
    // Only the listed violations need their text; the rest are counted.
    validate.max_kept_violations = options_.max_listed;
    auto report = ValidateCsbText(object.text, validate);
    if (!report) return Fail(std::move(report).error().WithContext(object.where));
    if (!report->Valid()) {
      return Fail(ErrorCode::InvalidArgument, report->Summary(options_.max_listed), object.where);
    }

    Outcome outcome;
    outcome.summary = fmt::format("{}: valid CSB {} ({} soundings)", event.key, kCsbSchemaVersion,
                                  report->features);
    if (output_ != nullptr) {
      if (context.Cancelled()) {
        return Fail(ErrorCode::Cancelled, "cancelled before writing", object.where);
      }
      const std::string key = options_.output_prefix + event.key;
      auto put = output_->Put(key, object.text);
      if (!put) return Fail(std::move(put).error().WithContext(object.where));
      context.Emit(ObjectCreatedEvent(options_.output, *put));  // the next stage's input
      outcome.objects_written = 1;
      outcome.summary += fmt::format(", written to {}/{}", options_.output, key);
    }
    return outcome;
  }

 private:
  const ValidateHandlerOptions options_;
  const Resources resources_;
  ObjectStore* output_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeValidateHandler(const Options& options,
                                                     const Resources& resources) {
  SLUICE_RETURN_IF_ERROR(
      options.CheckKeys({"store", "output", "output_prefix", "semantic_checks", "max_listed"}));
  ValidateHandlerOptions parsed;
  SLUICE_ASSIGN_OR_RETURN(const auto store, options.String("store"));
  SLUICE_ASSIGN_OR_RETURN(const auto output, options.String("output"));
  SLUICE_ASSIGN_OR_RETURN(const auto output_prefix, options.String("output_prefix"));
  SLUICE_ASSIGN_OR_RETURN(const auto semantic_checks, options.Bool("semantic_checks"));
  SLUICE_ASSIGN_OR_RETURN(const auto max_listed, options.Int("max_listed"));
  parsed.store = store.value_or("");
  parsed.output = output.value_or("");
  parsed.output_prefix = output_prefix.value_or("");
  parsed.semantic_checks = semantic_checks.value_or(true);
  if (max_listed) {
    if (*max_listed < 1 || *max_listed > 1000) {
      return Fail(options.MakeError("max_listed", "must be between 1 and 1000"));
    }
    parsed.max_listed = static_cast<std::size_t>(*max_listed);
  }
  if (store && resources.FindStore(*store) == nullptr) {
    return Fail(options.MakeError("store", fmt::format("unknown store '{}'", *store)));
  }
  if (output && resources.FindStore(*output) == nullptr) {
    return Fail(options.MakeError("output", fmt::format("unknown store '{}'", *output)));
  }
  return std::unique_ptr<Handler>(std::make_unique<ValidateHandler>(std::move(parsed), resources));
}

}  // namespace sluice::wibl
