// The ObjectStore conformance suite (conformance_suite.hpp) for the local backends, file:// and
// memory://. s3:// runs it against a real server in tests/integration/s3_conformance_test.cpp.

#include "conformance_suite.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sluice/store/memory/memory_store.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {
namespace {

std::filesystem::path FileRootFor(const std::string& test_id) {
  return std::filesystem::temp_directory_path() /
         fmt::format("sluice-conformance-{}-{}", ::getpid(), test_id);
}

std::vector<Backend> Backends() {
  return {
      Backend{"file",
              [](const std::string& test_id) {
                return MakeObjectStore("file://" + FileRootFor(test_id).string());
              },
              [](const std::string& test_id) {
                std::error_code ec;
                std::filesystem::remove_all(FileRootFor(test_id), ec);
              }},
      Backend{"memory",
              [](const std::string& test_id) {
                return MakeObjectStore("memory://conformance-" + test_id);
              },
              [](const std::string& test_id) { ClearMemoryStore("conformance-" + test_id); }},
  };
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreConformance, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace sluice
