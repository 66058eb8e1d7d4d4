#include "console/assets.h"

namespace obsforge::console {

const Asset* FindAsset(std::string_view name) {
  for (const Asset& asset : Assets()) {
    if (asset.name == name) {
      return &asset;
    }
  }
  return nullptr;
}

}  // namespace obsforge::console
