// Private helpers for config loading: typed reads from yaml-cpp nodes that
// throw LoadError with the node's position and key path. Only src/config uses
// this header; LoadError never leaves loadString (see config.cc).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weir/config/config.h"

namespace weir::config::detail {

// A config mistake at a position. `line` and `column` are 1-based.
class LoadError : public std::runtime_error {
 public:
  LoadError(int line, int column, std::string path, const std::string& message);
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& path() const { return path_; }

 private:
  int line_;
  int column_;
  std::string path_;
};

// A value together with where it came from: its key path such as
// "pools.api.servers[1].address" and the position to blame for it. For an
// empty value ("key:" with nothing after it) the position is the key's, since
// yaml-cpp places an implicit null at the next token.
struct Item {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;

  [[noreturn]] void fail(const std::string& message) const;
  Item child(const YAML::Node& key, const YAML::Node& value) const;
  Item element(size_t index, const YAML::Node& value) const;
};

Item rootItem(const YAML::Node& root);

// The entries of a YAML map, in file order. Construction fails on a value
// that is not a map, a key that is not a scalar, a duplicate key and, when
// `allowed` is given, a key not in it (suggesting the closest allowed key).
class MapReader {
 public:
  MapReader(const Item& item, std::initializer_list<std::string_view> allowed);
  // Any key allowed; used for maps keyed by names, such as pools.
  explicit MapReader(const Item& item);

  // The value of `key`, if present.
  std::optional<Item> get(std::string_view key) const;
  // The value of `key`; if it is missing, fails with "KEY: required" at the map.
  Item require(std::string_view key) const;

  struct Entry {
    std::string key;
    Item key_item;  // the key itself, for errors about names
    Item value;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  void collect(const std::vector<std::string_view>* allowed);

  Item item_;
  std::vector<Entry> entries_;
};

// The elements of a YAML sequence; fails with "expected a list" otherwise.
std::vector<Item> listItems(const Item& item);

std::string readString(const Item& item);
int64_t readInteger(const Item& item, int64_t min, int64_t max);
bool readBool(const Item& item);
Duration readTimeout(const Item& item);  // > 0
Duration readDuration(const Item& item);  // >= 0 ("0" allowed)
double readNumber(const Item& item, double min, double max);
uint64_t readSize(const Item& item);  // > 0
std::string readChoice(const Item& item, std::initializer_list<std::string_view> choices);

// Levenshtein distance, for "did you mean" hints.
size_t editDistance(std::string_view a, std::string_view b);
// ` (did you mean "x"?)` for the closest candidate within distance 2, or "".
std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace weir::config::detail
