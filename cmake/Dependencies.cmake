# Every third-party dependency is found here, once, and wrapped in a sluice::dep_* target, so the
# module CMakeLists never name a package directly. All come from Debian 12 packages
# (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(CURL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PUGIXML REQUIRED IMPORTED_TARGET pugixml)
# cpp-httplib 0.11 (Debian builds it as a shared library; its .pc carries the feature defines
# that the header's class layout depends on, so it must be used through pkg-config).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# prometheus-cpp 1.0.1, the core library only (registry, metric types, text serializer). Its CMake
# package config find_dependency()s civetweb, zlib and curl for the pull/push parts even when only
# core is wanted, so it is found through the core's own .pc file, which needs nothing else.
pkg_check_modules(PROMETHEUS_CORE REQUIRED IMPORTED_TARGET prometheus-cpp-core)
pkg_check_modules(RABBITMQ REQUIRED IMPORTED_TARGET librabbitmq)  # librabbitmq-dev (rabbitmq-c)

add_library(sluice_dep_log INTERFACE)
target_link_libraries(sluice_dep_log INTERFACE spdlog::spdlog fmt::fmt)
add_library(sluice::dep_log ALIAS sluice_dep_log)

add_library(sluice_dep_toml INTERFACE)
target_link_libraries(sluice_dep_toml INTERFACE tomlplusplus::tomlplusplus)
add_library(sluice::dep_toml ALIAS sluice_dep_toml)

add_library(sluice_dep_json INTERFACE)
target_link_libraries(sluice_dep_json INTERFACE nlohmann_json::nlohmann_json)
add_library(sluice::dep_json ALIAS sluice_dep_json)

add_library(sluice_dep_cli INTERFACE)
target_link_libraries(sluice_dep_cli INTERFACE CLI11::CLI11)
add_library(sluice::dep_cli ALIAS sluice_dep_cli)

add_library(sluice_dep_sqlite INTERFACE)
target_link_libraries(sluice_dep_sqlite INTERFACE SQLite::SQLite3)
add_library(sluice::dep_sqlite ALIAS sluice_dep_sqlite)

add_library(sluice_dep_crypto INTERFACE)
target_link_libraries(sluice_dep_crypto INTERFACE OpenSSL::Crypto)
add_library(sluice::dep_crypto ALIAS sluice_dep_crypto)

add_library(sluice_dep_curl INTERFACE)
target_link_libraries(sluice_dep_curl INTERFACE CURL::libcurl)
add_library(sluice::dep_curl ALIAS sluice_dep_curl)

add_library(sluice_dep_xml INTERFACE)
target_link_libraries(sluice_dep_xml INTERFACE PkgConfig::PUGIXML)
add_library(sluice::dep_xml ALIAS sluice_dep_xml)

add_library(sluice_dep_httplib INTERFACE)
target_link_libraries(sluice_dep_httplib INTERFACE PkgConfig::HTTPLIB)
add_library(sluice::dep_httplib ALIAS sluice_dep_httplib)

add_library(sluice_dep_prometheus INTERFACE)
target_link_libraries(sluice_dep_prometheus INTERFACE PkgConfig::PROMETHEUS_CORE)
add_library(sluice::dep_prometheus ALIAS sluice_dep_prometheus)
# rabbitmq-c (AMQP 0-9-1 client) for the amqp:// queue and the amqp source
add_library(sluice_dep_rabbitmq INTERFACE)
target_link_libraries(sluice_dep_rabbitmq INTERFACE PkgConfig::RABBITMQ)
add_library(sluice::dep_rabbitmq ALIAS sluice_dep_rabbitmq)
