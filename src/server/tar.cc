#include "server/tar.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace obsforge::server {
namespace {

constexpr std::size_t kBlock = 512;

void PutOctal(char* field, std::size_t width, std::uint64_t value) {
  // width - 1 octal digits and a NUL, zero-padded.
  std::string digits(width - 1, '0');
  for (std::size_t i = width - 1; i-- > 0 && value != 0;) {
    digits[i] = static_cast<char>('0' + (value & 7U));
    value >>= 3U;
  }
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

void PutString(char* field, std::size_t width, const std::string& s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

}  // namespace

std::string WriteUstar(const std::map<std::string, std::string>& files) {
  std::string out;
  for (const auto& [path, content] : files) {
    std::string name = path;
    std::string prefix;
    if (name.size() > 100) {
      const std::size_t split = path.rfind('/', 155);
      if (path.size() > 255 || split == std::string::npos || path.size() - split - 1 > 100 ||
          split == 0) {
        throw std::invalid_argument("path too long for a tar archive: " + path);
      }
      prefix = path.substr(0, split);
      name = path.substr(split + 1);
    }
    std::array<char, kBlock> header{};
    char* h = header.data();
    PutString(h, 100, name);
    PutOctal(h + 100, 8, 0644);
    PutOctal(h + 108, 8, 0);
    PutOctal(h + 116, 8, 0);
    PutOctal(h + 124, 12, content.size());
    PutOctal(h + 136, 12, 0);
    std::memset(h + 148, ' ', 8);  // checksum is computed with its own field as spaces
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    PutString(h + 345, 155, prefix);
    unsigned sum = 0;
    for (char c : header) {
      sum += static_cast<unsigned char>(c);
    }
    PutOctal(h + 148, 7, sum);
    h[155] = ' ';
    out.append(header.data(), kBlock);
    out += content;
    out.append((kBlock - content.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  return out;
}

}  // namespace obsforge::server
