#include "sluice/handlers/wibl/wibl_process_handler.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "sluice/handlers/wibl/wibl_process.hpp"

namespace sluice::wibl {

namespace {

/// Logger files rotate at 10 MiB (research/wibl.md §1.2); far larger objects are not logger
/// files and are refused before they exhaust memory.
constexpr std::size_t kMaxWiblBytes = std::size_t{256} << 20;

/// The tags wibl-python's conversion lambda puts on its output (research/wibl.md §2.1,
/// `AWSController.transmit`): SourceID = uniqueVesselID, Logger = logger name, Soundings =
/// number of features. A value S3 would refuse (ValidateTags: characters outside letters,
/// digits, spaces and `_ . : / = + - @`, or longer than 256) is left out and named in
/// `left_out`; wibl-submit then takes the vessel ID from the GeoJSON.
ObjectTags OutputTags(const ProcessedFile& processed, std::vector<std::string>& left_out) {
  ObjectTags tags;
  const auto add = [&](const std::string& key, std::string value) {
    ObjectTags one{{key, value}};
    if (ValidateTags(one)) {
      tags.emplace(key, std::move(value));
    } else {
      left_out.push_back(key);
    }
  };
  add("SourceID", processed.UniqueVesselId());
  if (processed.logger_name) add("Logger", *processed.logger_name);
  add("Soundings", std::to_string(processed.soundings.size()));
  return tags;
}

class ProcessHandler final : public Handler {
 public:
  ProcessHandler(std::string store, ProcessOptions options, Resources resources)
      : store_name_(std::move(store)), options_(std::move(options)),
        resources_(std::move(resources)) {
    output_ = resources_.FindStore(store_name_);
  }

  // GeoJsonKeyFor: the input key with ".wibl" replaced by (or, without it, followed by) ".json".
  std::vector<OutputTarget> Outputs() const override { return {{store_name_, "", ".json"}}; }

  Result<Outcome> Handle(const Event& event, HandlerContext& context) override {
    ObjectStore* input = resources_.FindStore(event.store);
    if (input == nullptr) {
      return Fail(
          ErrorCode::InvalidArgument,
          fmt::format("event names store '{}', which the config does not define", event.store),
          event.key);
    }
    const std::string where = fmt::format("{}/{}", input->Url(), event.key);
    std::string bytes;
    // One allocation of the announced size keeps peak memory at one copy of the file.
    if (event.size_bytes > 0 && event.size_bytes <= kMaxWiblBytes) bytes.reserve(event.size_bytes);
    const auto read = input->GetTo(event.key, [&bytes](std::string_view chunk) -> Status {
      if (bytes.size() + chunk.size() > kMaxWiblBytes) {
        return Fail(ErrorCode::Corrupt, fmt::format("object is larger than {} bytes: not a WIBL "
                                                    "logger file",
                                                    kMaxWiblBytes));
      }
      bytes.append(chunk);
      return Ok();
    });
    if (!read) {
      if (read.error().code == ErrorCode::NotFound) {
        return Fail(ErrorCode::NotFound,
                    fmt::format("object {}/{} does not exist", event.store, event.key), where);
      }
      return Fail(Error(read.error()).WithContext(where));
    }
    auto processed = ProcessWibl(bytes, event.key, options_);
    if (!processed) return Fail(std::move(processed).error().WithContext(input->Url()));
    const std::string text = FormatGeoJson(*processed);
    if (context.Cancelled()) return Fail(ErrorCode::Cancelled, "cancelled before writing", where);

    const std::string key = GeoJsonKeyFor(event.key);
    WriteOptions write;
    std::vector<std::string> left_out;
    if (output_->Capabilities().object_tags) write.tags = OutputTags(*processed, left_out);
    if (!left_out.empty()) {
      spdlog::warn("{}: tag(s) {} not set on {}/{}: their values are not valid S3 tag values; "
                   "wibl-submit will read the vessel ID from the GeoJSON",
                   event.key, fmt::join(left_out, ", "), store_name_, key);
    }
    auto put = output_->Put(key, text, write);
    if (!put) {
      return Fail(std::move(put).error().WithContext(fmt::format("{}/{}", output_->Url(), key)));
    }
    context.Emit(ObjectCreatedEvent(store_name_, *put));  // the next stage's input
    Outcome outcome;
    outcome.objects_written = 1;
    outcome.summary = fmt::format(
        "{}: {} soundings -> {}/{} (SourceID={}, Logger={}, Soundings={})", event.key,
        processed->soundings.size(), store_name_, key, processed->UniqueVesselId(),
        processed->logger_name.value_or(""), processed->soundings.size());
    return outcome;
  }

 private:
  const std::string store_name_;
  const ProcessOptions options_;
  const Resources resources_;
  ObjectStore* output_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Handler>> MakeProcessHandler(const Options& options,
                                                    const Resources& resources) {
  SLUICE_RETURN_IF_ERROR(options.CheckKeys(
      {"store", "provider_id", "elapsed_time_width", "strict", "reject_null_positions",
       "robust_counter_wrap", "single_position_source", "single_depth_source",
       "null_empty_parameters", "metadata"}));
  SLUICE_ASSIGN_OR_RETURN(const auto store, options.String("store"));
  if (!store) return Fail(options.MakeError("store", "is required (the staging store's name)"));
  if (resources.FindStore(*store) == nullptr) {
    return Fail(options.MakeError("store", fmt::format("unknown store '{}'", *store)));
  }
  ProcessOptions parsed;
  SLUICE_ASSIGN_OR_RETURN(const auto provider_id, options.String("provider_id"));
  parsed.provider_id = provider_id.value_or("");
  SLUICE_ASSIGN_OR_RETURN(const auto width, options.Int("elapsed_time_width"));
  if (width) {
    if (*width < 1 || *width > 63) {
      return Fail(options.MakeError("elapsed_time_width", "must be 1..63 (32, or 16 for YDVR)"));
    }
    parsed.elapsed_time_width = static_cast<int>(*width);
  }
  const auto flag = [&](std::string_view key, bool& target) -> Status {
    SLUICE_ASSIGN_OR_RETURN(const auto value, options.Bool(key));
    if (value) target = *value;
    return Ok();
  };
  SLUICE_RETURN_IF_ERROR(flag("strict", parsed.strict));
  SLUICE_RETURN_IF_ERROR(flag("reject_null_positions", parsed.reject_null_positions));
  SLUICE_RETURN_IF_ERROR(flag("robust_counter_wrap", parsed.robust_counter_wrap));
  SLUICE_RETURN_IF_ERROR(flag("single_position_source", parsed.single_position_source));
  SLUICE_RETURN_IF_ERROR(flag("single_depth_source", parsed.single_depth_source));
  SLUICE_RETURN_IF_ERROR(flag("null_empty_parameters", parsed.null_empty_parameters));
  if (options.Has("metadata")) {
    const auto& metadata = options.Json().at("metadata");
    if (!metadata.is_object()) {
      return Fail(options.MakeError("metadata", "expected a table (JSON object)"));
    }
    parsed.metadata = nlohmann::ordered_json::parse(metadata.dump());
  }
  return std::unique_ptr<Handler>(
      std::make_unique<ProcessHandler>(*store, std::move(parsed), resources));
}

}  // namespace sluice::wibl
