#include "sluice/handlers/wibl/csb_validate.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::wibl {

namespace {

using Json = nlohmann::json;

// ---- String shapes. Each is the exact language of the corresponding csbschema `pattern`
// (ECMAScript semantics, as JSON Schema prescribes: unanchored search, ASCII classes, `$` only at
// the very end), written as a scanner rather than a regular expression.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool AllOf(std::string_view text, bool (*predicate)(char)) {
  for (const char c : text) {
    if (!predicate(c)) return false;
  }
  return true;
}

/// Two digits forming a number in [low, high].
bool TwoDigitsIn(std::string_view text, std::size_t at, int low, int high) {
  if (at + 2 > text.size() || !IsDigit(text[at]) || !IsDigit(text[at + 1])) return false;
  const int value = (text[at] - '0') * 10 + (text[at + 1] - '0');
  return value >= low && value <= high;
}

/// YYYY…-MM-DDTHH:MM:SS[.fraction]Z: any number (>= 1) of year digits, month 01-12, day 01-31
/// (not checked against the month), hour 00-23, minute 00-59, second 00-60, 't' and 'z' allowed
/// in lower case, UTC only (no numeric offset).
bool IsRfc3339Utc(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i == 0) return false;
  if (text.size() < i + 1 + 2 + 1 + 2 + 1 + 2 + 1 + 2 + 1 + 2 + 1) return false;
  if (text[i] != '-' || !TwoDigitsIn(text, i + 1, 1, 12) || text[i + 3] != '-' ||
      !TwoDigitsIn(text, i + 4, 1, 31)) {
    return false;
  }
  i += 6;
  if (text[i] != 'T' && text[i] != 't') return false;
  if (!TwoDigitsIn(text, i + 1, 0, 23) || text[i + 3] != ':' || !TwoDigitsIn(text, i + 4, 0, 59) ||
      text[i + 6] != ':' || !TwoDigitsIn(text, i + 7, 0, 60)) {
    return false;
  }
  i += 9;
  if (i < text.size() && text[i] == '.') {
    const std::size_t digits_start = ++i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    if (i == digits_start) return false;
  }
  return i + 1 == text.size() && (text[i] == 'Z' || text[i] == 'z');
}

/// <trusted node: a letter then letters/digits>-<UUID 8-4-4-4-12 hex digits, any case>.
bool IsUniqueVesselId(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || !IsAlpha(text[0]) ||
      !AllOf(text.substr(0, dash), IsAlnum)) {
    return false;
  }
  const std::string_view uuid = text.substr(dash + 1);
  constexpr std::array<std::size_t, 5> kGroups = {8, 4, 4, 4, 12};
  std::size_t at = 0;
  for (std::size_t g = 0; g < kGroups.size(); ++g) {
    if (g > 0) {
      if (at >= uuid.size() || uuid[at] != '-') return false;
      ++at;
    }
    if (at + kGroups[g] > uuid.size() || !AllOf(uuid.substr(at, kGroups[g]), IsHex)) return false;
    at += kGroups[g];
  }
  return at == uuid.size();
}

bool IsEmailLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsEmailDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

/// local@domain.tld with the schema's character sets and a 2-6 letter last label.
bool IsProviderEmail(std::string_view text) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0 || !AllOf(text.substr(0, at), IsEmailLocalChar)) {
    return false;
  }
  const std::string_view domain = text.substr(at + 1);
  if (!AllOf(domain, IsEmailDomainChar)) return false;
  // The top-level label holds no '.', so it is whatever follows the last one.
  const std::size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const std::string_view tld = domain.substr(dot + 1);
  return tld.size() >= 2 && tld.size() <= 6 && AllOf(tld, IsAlpha);
}

/// "EPSG:<code>" with code 1024..32767 (no leading zero). The schema's alternative for 1024-1029
/// lacks its end anchor, so any text after "EPSG:1024".."EPSG:1029" is accepted as well; kept,
/// so that sluice and other validators of the same schema agree.
bool IsEpsgName(std::string_view text) {
  constexpr std::string_view kPrefix = "EPSG:";
  if (!text.starts_with(kPrefix)) return false;
  const std::string_view code = text.substr(kPrefix.size());
  if (code.size() >= 4 && code.starts_with("102") && code[3] >= '4' && code[3] <= '9') return true;
  if (code.size() < 4 || code.size() > 5 || !AllOf(code, IsDigit) || code[0] == '0') return false;
  int value = 0;
  for (const char c : code) value = value * 10 + (c - '0');
  return value >= 1024 && value <= 32767;
}

bool IsMmsi(std::string_view text) { return text.size() == 9 && AllOf(text, IsDigit); }

bool IsImoNumber(std::string_view text) {
  return text.size() == 10 && text.starts_with("IMO") && AllOf(text.substr(3), IsDigit);
}

// ---- The walk.

std::string QuotedList(std::span<const std::string_view> values) {
  std::string text;
  for (const std::string_view value : values) {
    if (!text.empty()) text += ", ";
    text += fmt::format("\"{}\"", value);
  }
  return text;
}

/// Walks one document, keeping the JSON Pointer of the value being checked.
class Checker {
 public:
  Checker(const CsbValidateOptions& options, CsbReport& report)
      : options_(options), report_(report) {}

  /// Restores the path when a member or element has been checked.
  class Scope {
   public:
    Scope(std::string& path, std::size_t length) : path_(path), length_(length) {}
    ~Scope() { path_.resize(length_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::string& path_;
    std::size_t length_;
  };

  [[nodiscard]] Scope Enter(std::string_view member) {
    const std::size_t length = path_.size();
    path_.push_back('/');
    for (const char c : member) {  // RFC 6901 §3 escaping
      if (c == '~') {
        path_ += "~0";
      } else if (c == '/') {
        path_ += "~1";
      } else {
        path_.push_back(c);
      }
    }
    return Scope(path_, length);
  }

  [[nodiscard]] Scope Enter(std::size_t index) {
    const std::size_t length = path_.size();
    fmt::format_to(std::back_inserter(path_), "/{}", index);
    return Scope(path_, length);
  }

  /// Records a violation at the current path.
  void Add(std::string reason) {
    ++report_.total_violations;
    if (report_.violations.size() < options_.max_kept_violations) {
      report_.violations.push_back(CsbViolation{path_, std::move(reason)});
    }
  }

  /// Records a violation at member `name` of the current value.
  void AddAt(std::string_view name, std::string reason) {
    const Scope scope = Enter(name);
    Add(std::move(reason));
  }

 private:
  const CsbValidateOptions& options_;
  CsbReport& report_;
  std::string path_;
};

using Rule = void (*)(Checker&, const Json&);

/// One member of an object rule.
struct Member {
  std::string_view name;
  bool required;
  Rule rule;
};

/// Applies `members` to `value`, which must be an object.
void CheckObject(Checker& c, const Json& value, std::span<const Member> members) {
  if (!value.is_object()) {
    c.Add("must be an object");
    return;
  }
  for (const Member& member : members) {
    const auto it = value.find(member.name);
    if (it == value.end()) {
      if (member.required) c.AddAt(member.name, "is required but missing");
      continue;
    }
    const auto scope = c.Enter(member.name);
    member.rule(c, *it);
  }
}

void CheckString(Checker& c, const Json& value) {
  if (!value.is_string()) c.Add("must be a string");
}

void CheckNumber(Checker& c, const Json& value) {
  if (!value.is_number()) c.Add("must be a number");
}

void CheckBoolean(Checker& c, const Json& value) {
  if (!value.is_boolean()) c.Add("must be true or false");
}

void CheckAnyObject(Checker& c, const Json& value) {
  if (!value.is_object()) c.Add("must be an object");
}

void CheckNullOrObject(Checker& c, const Json& value) {
  if (!value.is_null() && !value.is_object()) c.Add("must be null or an object");
}

void CheckNumberOrString(Checker& c, const Json& value) {
  if (!value.is_number() && !value.is_string()) c.Add("must be a number or a string");
}

/// An integer >= 1; 65.0 counts as an integer (JSON Schema 2020-12 §6.1.1: a number with a zero
/// fractional part).
void CheckPositiveInteger(Checker& c, const Json& value) {
  bool integer = value.is_number_integer();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    integer = std::isfinite(number) && std::floor(number) == number;
  }
  if (!integer) {
    c.Add("must be an integer");
  } else if (value.get<double>() < 1) {
    c.Add("must be at least 1");
  }
}

void CheckEnum(Checker& c, const Json& value, std::span<const std::string_view> allowed) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    for (const std::string_view candidate : allowed) {
      if (text == candidate) return;
    }
  }
  c.Add(fmt::format("must be {}{}", allowed.size() == 1 ? "" : "one of ", QuotedList(allowed)));
}

void CheckShape(Checker& c, const Json& value, bool (*shape)(std::string_view),
                std::string_view description) {
  if (!value.is_string()) {
    c.Add("must be a string");
  } else if (!shape(value.get_ref<const std::string&>())) {
    c.Add(fmt::format("\"{}\" is not {}", value.get_ref<const std::string&>(), description));
  }
}

void CheckTime(Checker& c, const Json& value) {
  CheckShape(c, value, IsRfc3339Utc,
             "an RFC 3339 UTC time like \"2024-04-01T12:30:00.25Z\" (research/wibl.md §5)");
}

void CheckEpsgName(Checker& c, const Json& value) {
  CheckShape(c, value, IsEpsgName, "an EPSG CRS name like \"EPSG:4326\" (codes 1024-32767)");
}

void CheckUniqueVesselId(Checker& c, const Json& value) {
  CheckShape(c, value, IsUniqueVesselId,
             "a unique vessel ID \"<TRUSTEDNODE>-<UUID>\", e.g. "
             "\"SEAID-e8c469f8-df38-11e5-b86d-9a79f06e9478\"");
}

void CheckProviderEmail(Checker& c, const Json& value) {
  CheckShape(c, value, IsProviderEmail, "an e-mail address");
}

/// An array with at least `min_items` (and, when non-zero, at most `max_items`) elements, each
/// checked by `item`.
void CheckArray(Checker& c, const Json& value, std::size_t min_items, std::size_t max_items,
                Rule item) {
  if (!value.is_array()) {
    c.Add("must be an array");
    return;
  }
  if (max_items != 0 && min_items == max_items && value.size() != min_items) {
    c.Add(fmt::format("must have exactly {} elements, has {}", min_items, value.size()));
  } else if (value.size() < min_items) {
    c.Add(value.empty()
              ? std::string("must not be empty")
              : fmt::format("must have at least {} elements, has {}", min_items, value.size()));
  } else if (max_items != 0 && value.size() > max_items) {
    c.Add(fmt::format("must have at most {} elements, has {}", max_items, value.size()));
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto scope = c.Enter(i);
    item(c, value[i]);
  }
}

void CheckThreeNumbers(Checker& c, const Json& value) { CheckArray(c, value, 3, 3, CheckNumber); }

// ---- crs (schema definitions CRS, CRS_Name)

void CheckCrsProperties(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {{"name", true, CheckEpsgName}};
  CheckObject(c, value, kMembers);
}

void CheckCrs(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {{"properties", true, CheckCrsProperties}};
  CheckObject(c, value, kMembers);
}

// ---- properties.trustedNode (TrustedNode)

constexpr std::array<std::string_view, 1> kConventions = {"GeoJSON CSB 3.1"};
constexpr std::array<std::string_view, 3> kVerticalReferences = {"Transducer", "Waterline",
                                                                 "Unknown"};
constexpr std::array<std::string_view, 3> kPositionReferencePoints = {"GNSS", "Transducer",
                                                                      "ReferencePlace"};

void CheckTrustedNode(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"providerOrganizationName", true, CheckString},
      {"providerEmail", true, CheckProviderEmail},
      {"uniqueVesselID", true, CheckUniqueVesselId},
      {"convention", true, [](Checker& c2, const Json& v) { CheckEnum(c2, v, kConventions); }},
      {"dataLicense", true, CheckString},
      {"providerLogger", true, CheckString},
      {"providerLoggerVersion", true, CheckString},
      {"navigationCRS", true, CheckEpsgName},
      {"verticalReferenceOfDepth", true,
       [](Checker& c2, const Json& v) { CheckEnum(c2, v, kVerticalReferences); }},
      {"vesselPositionReferencePoint", true,
       [](Checker& c2, const Json& v) { CheckEnum(c2, v, kPositionReferencePoints); }},
  };
  CheckObject(c, value, kMembers);
}

// ---- properties.platform (Platform, SensorDescription*)

constexpr std::array<std::string_view, 1> kFeatureCollection = {"FeatureCollection"};
constexpr std::array<std::string_view, 1> kFeature = {"Feature"};
constexpr std::array<std::string_view, 1> kPoint = {"Point"};
constexpr std::array<std::string_view, 2> kIdTypes = {"MMSI", "IMO"};
constexpr std::array<std::string_view, 3> kSensorTypes = {"Sounder", "IMU", "GNSS"};

void CheckIdNumber(Checker& c, const Json& value) {
  CheckShape(
      c, value, [](std::string_view text) { return IsMmsi(text) || IsImoNumber(text); },
      "an MMSI (9 digits) or an IMO number (\"IMO\" and 7 digits)");
}

void CheckSensor(Checker& c, const Json& value) {
  static constexpr Member kSounder[] = {
      {"make", true, CheckString},           {"model", true, CheckString},
      {"position", true, CheckThreeNumbers}, {"draft", false, CheckNumber},
      {"draftUncert", false, CheckNumber},   {"frequency", false, CheckNumber},
      {"pulseLength", false, CheckNumber},
  };
  static constexpr Member kImu[] = {
      {"make", true, CheckString},
      {"model", true, CheckString},
      {"position", true, CheckThreeNumbers},
  };
  static constexpr Member kGnss[] = {
      {"make", true, CheckString},
      {"model", true, CheckString},
      {"position", false, CheckThreeNumbers},
      {"antennaModel", false, CheckString},
  };
  // The schema's `oneOf` alternatives each fix `type` to a different constant, so the sensor's
  // own `type` picks the only alternative it could satisfy.
  const auto type = value.is_object() ? value.find("type") : value.end();
  const std::string_view name = value.is_object() && type != value.end() && type->is_string()
                                    ? std::string_view(type->get_ref<const std::string&>())
                                    : std::string_view();
  if (name == "Sounder") {
    CheckObject(c, value, kSounder);
  } else if (name == "IMU") {
    CheckObject(c, value, kImu);
  } else if (name == "GNSS") {
    CheckObject(c, value, kGnss);
  } else {
    c.Add(fmt::format("must be a sensor object whose \"type\" is one of {}",
                      QuotedList(kSensorTypes)));
  }
}

void CheckSensors(Checker& c, const Json& value) { CheckArray(c, value, 1, 0, CheckSensor); }

void CheckPlatform(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"type", false, CheckString},
      {"name", false, CheckString},
      {"length", false, CheckPositiveInteger},
      {"IDType", false, [](Checker& c2, const Json& v) { CheckEnum(c2, v, kIdTypes); }},
      {"IDNumber", false, CheckIdNumber},
      {"sensors", false, CheckSensors},
      {"soundSpeedDocumented", false, CheckBoolean},
      {"positionOffsetsDocumented", false, CheckBoolean},
      {"dataProcessed", false, CheckBoolean},
      {"contributorComments", false, CheckString},
      {"uniqueID", false, CheckUniqueVesselId},
  };
  CheckObject(c, value, kMembers);
}

// ---- properties.processing (Processing*)

constexpr std::array<std::string_view, 3> kVerticalReductionMethods = {
    "EllipsoidReduction", "Observed Waterlevel", "Predicted Waterlevel"};
constexpr std::array<std::string_view, 2> kGnssAlgorithms = {"RTKLib", "CSRS-PPP"};
constexpr std::array<std::string_view, 8> kProcessingTypes = {
    "TimeStampInterpolation", "CRSChange", "VerticalReduction", "GNSS", "SoundSpeed", "Uncertainty",
    "VerticalOffsetAnalysis", "Algorithm"};

void CheckOffset(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"x", true, CheckNumber},
      {"y", true, CheckNumber},
      {"delta", true, CheckNumber},
      {"z", false, CheckNumber},
  };
  CheckObject(c, value, kMembers);
}

void CheckAnalysis(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"name", true, CheckString},          {"pass", true, CheckBoolean},
      {"parameters", true, CheckAnyObject}, {"reference", false, CheckString},
      {"comment", false, CheckString},
  };
  CheckObject(c, value, kMembers);
}

void CheckProcessingStep(Checker& c, const Json& value) {
  static constexpr Member kTimeStamp[] = {
      {"timestamp", true, CheckTime},
      {"method", true, CheckString},
      {"algorithm", false, CheckString},
      {"version", false, CheckString},
  };
  static constexpr Member kCrsChange[] = {
      {"timestamp", true, CheckTime},
      {"original", true, CheckString},
      {"destination", true, CheckString},
      {"method", false, CheckString},
  };
  static constexpr Member kVerticalReduction[] = {
      {"timestamp", true, CheckTime},
      {"reference", true, CheckString},
      {"datum", true, CheckString},
      {"method", true,
       [](Checker& c2, const Json& v) { CheckEnum(c2, v, kVerticalReductionMethods); }},
      {"model", false, CheckString},
      {"algorithm", false, CheckString},
      {"version", false, CheckString},
  };
  static constexpr Member kGnss[] = {
      {"timestamp", true, CheckTime},
      {"algorithm", true, [](Checker& c2, const Json& v) { CheckEnum(c2, v, kGnssAlgorithms); }},
      {"version", false, CheckString},
  };
  static constexpr Member kSoundSpeed[] = {
      {"timestamp", true, CheckTime},
      {"source", true, CheckString},
      {"method", true, CheckString},
      {"version", false, CheckString},
  };
  static constexpr Member kUncertainty[] = {
      {"timestamp", true, CheckTime},       {"name", true, CheckString},
      {"parameters", true, CheckAnyObject}, {"version", true, CheckString},
      {"comment", true, CheckString},       {"reference", true, CheckString},
  };
  static constexpr Member kVerticalOffset[] = {
      {"timestamp", true, CheckTime},
      {"name", true, CheckString},
      {"version", true, CheckString},
      {"offsets", true, [](Checker& c2, const Json& v) { CheckArray(c2, v, 1, 0, CheckOffset); }},
      {"reference", false, CheckString},
      {"comment", false, CheckString},
      {"analysis", false,
       [](Checker& c2, const Json& v) { CheckArray(c2, v, 1, 0, CheckAnalysis); }},
  };
  static constexpr Member kAlgorithm[] = {
      {"timestamp", true, CheckTime},  {"name", true, CheckString},
      {"source", false, CheckString},  {"parameters", false, CheckNullOrObject},
      {"version", false, CheckString}, {"comment", false, CheckString},
  };
  // As for sensors: each `oneOf` alternative fixes `type`, so the step's type selects it.
  const auto type = value.is_object() ? value.find("type") : value.end();
  const std::string_view name = value.is_object() && type != value.end() && type->is_string()
                                    ? std::string_view(type->get_ref<const std::string&>())
                                    : std::string_view();
  std::span<const Member> members;
  if (name == "TimeStampInterpolation") {
    members = kTimeStamp;
  } else if (name == "CRSChange") {
    members = kCrsChange;
  } else if (name == "VerticalReduction") {
    members = kVerticalReduction;
  } else if (name == "GNSS") {
    members = kGnss;
  } else if (name == "SoundSpeed") {
    members = kSoundSpeed;
  } else if (name == "Uncertainty") {
    members = kUncertainty;
  } else if (name == "VerticalOffsetAnalysis") {
    members = kVerticalOffset;
  } else if (name == "Algorithm") {
    members = kAlgorithm;
  } else {
    c.Add(fmt::format("must be a processing step object whose \"type\" is one of {}",
                      QuotedList(kProcessingTypes)));
    return;
  }
  CheckObject(c, value, members);
}

void CheckProcessing(Checker& c, const Json& value) {
  CheckArray(c, value, 1, 0, CheckProcessingStep);
}

void CheckMetadata(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"trustedNode", true, CheckTrustedNode},
      {"platform", false, CheckPlatform},
      {"processing", false, CheckProcessing},
  };
  CheckObject(c, value, kMembers);
}

// ---- features (GeoJSONFeature, CSBDatum)

void CheckCoordinates(Checker& c, const Json& value) { CheckArray(c, value, 2, 0, CheckNumber); }
void CheckBbox(Checker& c, const Json& value) { CheckArray(c, value, 4, 0, CheckNumber); }

void CheckGeometry(Checker& c, const Json& value) {
  static constexpr Member kPointMembers[] = {
      {"type", true, [](Checker& c2, const Json& v) { CheckEnum(c2, v, kPoint); }},
      {"coordinates", true, CheckCoordinates},
      {"bbox", false, CheckBbox},
  };
  if (value.is_null()) return;
  if (!value.is_object()) {
    c.Add("must be null or a GeoJSON Point object");
    return;
  }
  CheckObject(c, value, kPointMembers);
}

void CheckDatum(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"depth", true, CheckNumber},
      {"time", true, CheckTime},
      {"uncertainty", false, CheckThreeNumbers},
  };
  CheckObject(c, value, kMembers);
}

void CheckFeature(Checker& c, const Json& value) {
  static constexpr Member kMembers[] = {
      {"type", true, [](Checker& c2, const Json& v) { CheckEnum(c2, v, kFeature); }},
      {"id", false, CheckNumberOrString},
      {"properties", true, CheckDatum},
      {"geometry", true, CheckGeometry},
  };
  CheckObject(c, value, kMembers);
}

void CheckFeatures(Checker& c, const Json& value) { CheckArray(c, value, 0, 0, CheckFeature); }

void CheckDocument(Checker& c, const Json& document) {
  static constexpr Member kMembers[] = {
      {"type", true, [](Checker& c2, const Json& v) { CheckEnum(c2, v, kFeatureCollection); }},
      {"crs", true, CheckCrs},
      {"properties", true, CheckMetadata},
      {"features", true, CheckFeatures},
  };
  if (!document.is_object()) {
    c.Add("must be a JSON object (a GeoJSON FeatureCollection)");
    return;
  }
  CheckObject(c, document, kMembers);
}

// ---- Semantic checks (csbschema's validators for 3.1.0, research/wibl.md §5). They read only
// values of the expected types; a wrong type has already been reported by the schema walk.

const Json* Find(const Json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

const std::string* FindString(const Json& object, std::string_view name) {
  const Json* value = Find(object, name);
  return value != nullptr && value->is_string() ? &value->get_ref<const std::string&>() : nullptr;
}

void CheckPlatformSemantics(Checker& c, const Json& properties) {
  const Json* platform = Find(properties, "platform");
  const Json* trusted_node = Find(properties, "trustedNode");
  if (platform == nullptr || !platform->is_object() || trusted_node == nullptr) return;
  const auto scope_properties = c.Enter("properties");
  const auto scope_platform = c.Enter("platform");

  const Json* id_type = Find(*platform, "IDType");
  const Json* id_number = Find(*platform, "IDNumber");
  if (id_number != nullptr && id_type == nullptr) {
    c.Add("has IDNumber without IDType");
  } else if (id_type != nullptr && id_number == nullptr) {
    c.Add("has IDType without IDNumber");
  } else if (id_type != nullptr && id_type->is_string() && id_number->is_string()) {
    const auto& type = id_type->get_ref<const std::string&>();
    const auto& number = id_number->get_ref<const std::string&>();
    const bool matches = type == "MMSI"  ? IsMmsi(number)
                         : type == "IMO" ? IsImoNumber(number)
                                         : true;
    if (!matches) {
      c.AddAt("IDNumber", fmt::format("\"{}\" is not a valid {} number (IDType)", number, type));
    }
  }

  const Json* data_processed = Find(*platform, "dataProcessed");
  const bool processed =
      data_processed != nullptr && data_processed->is_boolean() && data_processed->get<bool>();
  const bool has_processing = Find(properties, "processing") != nullptr;
  if (data_processed == nullptr || data_processed->is_boolean()) {
    if (processed && !has_processing) {
      c.AddAt("dataProcessed", "is true but /properties/processing is missing");
    } else if (!processed && has_processing) {
      c.AddAt("dataProcessed", data_processed == nullptr
                                   ? "is missing (false) but /properties/processing is present"
                                   : "is false but /properties/processing is present");
    }
  }

  const std::string* unique_id = FindString(*platform, "uniqueID");
  const std::string* vessel_id = FindString(*trusted_node, "uniqueVesselID");
  if (unique_id != nullptr && vessel_id != nullptr && *unique_id != *vessel_id) {
    c.AddAt("uniqueID", fmt::format("\"{}\" differs from /properties/trustedNode/uniqueVesselID "
                                    "\"{}\"",
                                    *unique_id, *vessel_id));
  }
}

void CheckUncertaintySemantics(Checker& c, const Json& document) {
  const Json* features = Find(document, "features");
  if (features == nullptr || !features->is_array()) return;
  std::size_t first = 0;
  for (; first < features->size(); ++first) {
    const Json* datum = Find((*features)[first], "properties");
    if (datum != nullptr && Find(*datum, "uncertainty") != nullptr) break;
  }
  if (first == features->size()) return;
  const Json* properties = Find(document, "properties");
  const Json* processing = properties != nullptr ? Find(*properties, "processing") : nullptr;
  if (processing != nullptr && processing->is_array()) {
    for (const Json& step : *processing) {
      const std::string* type = FindString(step, "type");
      if (type != nullptr && *type == "Uncertainty") return;
    }
  }
  const auto scope_features = c.Enter("features");
  const auto scope_feature = c.Enter(first);
  const auto scope_datum = c.Enter("properties");
  c.AddAt("uncertainty", "is given but /properties/processing has no step of type \"Uncertainty\"");
}

}  // namespace

std::string CsbReport::Summary(std::size_t max_listed) const {
  if (Valid()) return "valid";
  std::string text = fmt::format("{} violation{} of csbschema {}", total_violations,
                                 total_violations == 1 ? "" : "s", kCsbSchemaVersion);
  const std::size_t listed = std::min(max_listed, violations.size());
  for (std::size_t i = 0; i < listed; ++i) {
    text += i == 0 ? ": " : "; ";
    text += fmt::format("{}: {}", violations[i].path.empty() ? "(document)" : violations[i].path,
                        violations[i].reason);
  }
  if (total_violations > listed) text += fmt::format("; and {} more", total_violations - listed);
  return text;
}

CsbReport ValidateCsb(const nlohmann::json& document, const CsbValidateOptions& options) {
  CsbReport report;
  Checker checker(options, report);
  CheckDocument(checker, document);
  if (options.semantic_checks) {
    if (const Json* properties = Find(document, "properties")) {
      CheckPlatformSemantics(checker, *properties);
    }
    CheckUncertaintySemantics(checker, document);
  }
  if (const Json* features = Find(document, "features");
      features != nullptr && features->is_array()) {
    report.features = features->size();
  }
  return report;
}

Result<CsbReport> ValidateCsbText(std::string_view text, const CsbValidateOptions& options) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::Corrupt, fmt::format("not JSON: {}", e.what()));
  }
  return ValidateCsb(document, options);
}

}  // namespace sluice::wibl
