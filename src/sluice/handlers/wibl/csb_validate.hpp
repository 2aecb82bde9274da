#pragma once
/// Validation of Crowdsourced Bathymetry (CSB) GeoJSON against the IHO B.12 3.1 rules that
/// csbschema 3.1.0-2024-04 states: its JSON Schema (draft 2020-12) plus its semantic checks
/// (research/wibl.md §5; §4 on why the submission pipeline validates before it uploads).
///
/// The rules are written out in code rather than by interpreting the schema file: the schema is
/// third-party text that sluice does not ship, and the one C++ schema library Debian 12 packages
/// (libvalijson-dev 1.0: drafts 3, 4 and 7) would need that file at run time.
/// The facts carried over — required members, types, enums, ranges, string shapes — follow the
/// schema exactly, so a document's schema verdict agrees with any conforming validator
/// (tests/unit/wibl_submit/ajv_agreement_test.cpp compares with ajv). The semantic checks come on
/// top and can only turn a schema-valid document invalid:
/// - platform.IDType and platform.IDNumber come together, and the number has the type's shape
///   (MMSI: 9 digits; IMO: "IMO" + 7 digits);
/// - platform.dataProcessed (absent = false) is true exactly when properties.processing exists;
/// - platform.uniqueID, when present, equals trustedNode.uniqueVesselID;
/// - a feature with an `uncertainty` requires an "Uncertainty" step in properties.processing.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice::wibl {

/// The csbschema version whose rules ValidateCsb implements.
inline constexpr std::string_view kCsbSchemaVersion = "3.1.0-2024-04";

/// One broken rule.
struct CsbViolation {
  /// Where, as a JSON Pointer (RFC 6901) into the document: "/features/3/properties/depth";
  /// "" is the whole document. A missing member is reported at the path it should have had.
  std::string path;
  /// Why, in a few words: "is required but missing", "must be a number".
  std::string reason;
};

/// Limits of one validation.
struct CsbValidateOptions {
  /// Also run the semantic checks listed above (false: the JSON Schema rules only, as a plain
  /// schema validator such as ajv would judge the document).
  bool semantic_checks = true;
  /// Violations kept in CsbReport::violations; later ones are only counted, so a file with a
  /// million bad soundings does not use a million strings.
  std::size_t max_kept_violations = 1000;
};

/// The verdict on one document.
struct CsbReport {
  std::vector<CsbViolation> violations;  ///< the first max_kept_violations, in document order
  std::size_t total_violations = 0;      ///< all violations found, kept or not
  std::size_t features = 0;              ///< entries of the `features` array (0 when absent)

  /// True when the document broke no rule.
  [[nodiscard]] bool Valid() const { return total_violations == 0; }

  /// One line for errors and logs: "3 violations: /a: reason; /b: reason; … and 1 more",
  /// listing at most `max_listed` of them; "valid" when there are none.
  [[nodiscard]] std::string Summary(std::size_t max_listed = 10) const;
};

/// Validates a parsed document (see the header comment for the rules). Never fails: every
/// problem, including a document that is not a JSON object, is a violation. Thread-safe.
CsbReport ValidateCsb(const nlohmann::json& document, const CsbValidateOptions& options = {});

/// Parses `text` as JSON (RFC 8259; NaN and Infinity, which Python's json.dumps may write, are
/// not JSON) and validates it. Returns Corrupt "not JSON: …" when it does not parse.
/// Thread-safe.
Result<CsbReport> ValidateCsbText(std::string_view text, const CsbValidateOptions& options = {});

}  // namespace sluice::wibl
