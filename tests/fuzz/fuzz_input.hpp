#pragma once
/// The main() shared by the AFL++ harnesses: one input from the file named by argv[1] (or stdin),
/// run once; AFL++'s fork server runs the binary per input, and the same binary replays a crash.
/// (No persistent mode: Debian 12's afl-g++-fast plugin refuses Debian's GCC 12, and classic
/// afl-g++ instrumentation has no __AFL_LOOP runtime.) Inputs above kMaxFuzzInput are rejected
/// before parsing: WIBL files are a few hundred kB and an NMEA0183 sentence is at most 128 bytes.

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace sluice::fuzz {

inline constexpr std::size_t kMaxFuzzInput = std::size_t{1} << 20;  // 1 MiB

/// Reads all of argv[1] (or stdin when absent or "-"); false on an I/O error.
inline bool ReadInput(int argc, char** argv, std::string& out) {
  if (argc > 1 && std::string_view(argv[1]) != "-") {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
  }
  out.clear();
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) out.append(buffer, n);
  return std::ferror(stdin) == 0;
}

}  // namespace sluice::fuzz

/// Defines main() around `void FuzzOne(std::string_view)`.
#define SLUICE_FUZZ_MAIN(FuzzOne)                                \
  int main(int argc, char** argv) {                              \
    std::string input;                                           \
    if (!::sluice::fuzz::ReadInput(argc, argv, input)) return 2; \
    if (input.size() > ::sluice::fuzz::kMaxFuzzInput) return 0;  \
    FuzzOne(input);                                              \
    return 0;                                                    \
  }
