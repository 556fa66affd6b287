// Typed reads from yaml-cpp nodes for the config loader. Errors are thrown as
// LoadError and turned into a Result by loadString; nothing here escapes it.
#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "weir/common/units.h"

namespace weir::config::detail {
namespace {

// yaml-cpp marks are 0-based; nodes built without a position carry -1.
int oneBased(int zero_based) { return zero_based < 0 ? 1 : zero_based + 1; }

std::string joinPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text).push_back('"');
  return out;
}

std::string joined(std::initializer_list<std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

// The scalar text of a node, or a failure naming what was expected instead.
const std::string& scalarOf(const Item& item, std::string_view expected) {
  if (!item.node.IsScalar()) item.fail("expected " + std::string(expected));
  return item.node.Scalar();
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

LoadError::LoadError(int line, int column, std::string path, const std::string& message)
    : std::runtime_error(message), line_(line), column_(column), path_(std::move(path)) {}

void Item::fail(const std::string& message) const {
  throw LoadError(oneBased(mark.line), oneBased(mark.column), path, message);
}

Item Item::child(const YAML::Node& key, const YAML::Node& value) const {
  YAML::Mark where = value.IsNull() ? key.Mark() : value.Mark();
  return Item{value, where, joinPath(path, key.IsScalar() ? key.Scalar() : "?")};
}

Item Item::element(size_t index, const YAML::Node& value) const {
  return Item{value, value.Mark(), path + "[" + std::to_string(index) + "]"};
}

Item rootItem(const YAML::Node& root) { return Item{root, root.Mark(), ""}; }

MapReader::MapReader(const Item& item, std::initializer_list<std::string_view> allowed)
    : item_(item) {
  std::vector<std::string_view> keys(allowed);
  collect(&keys);
}

MapReader::MapReader(const Item& item) : item_(item) { collect(nullptr); }

void MapReader::collect(const std::vector<std::string_view>* allowed) {
  if (!item_.node.IsMap()) item_.fail("expected a map");
  std::unordered_map<std::string, YAML::Mark> seen;
  for (auto it = item_.node.begin(); it != item_.node.end(); ++it) {
    // Copies: the iterator hands out a temporary pair of node handles.
    const YAML::Node key_node = it->first;
    const YAML::Node value_node = it->second;
    if (!key_node.IsScalar()) {
      Item{key_node, key_node.Mark(), item_.path}.fail("expected a name as the key");
    }
    const std::string& key = key_node.Scalar();
    Item key_item{key_node, key_node.Mark(), joinPath(item_.path, key)};
    auto [first, inserted] = seen.emplace(key, key_node.Mark());
    if (!inserted) {
      key_item.fail("duplicate key " + quoted(key) + " (first defined at line " +
                    std::to_string(oneBased(first->second.line)) + ")");
    }
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), key) == allowed->end()) {
      key_item.fail("unknown key " + quoted(key) + didYouMean(key, *allowed));
    }
    entries_.push_back(Entry{key, key_item, item_.child(key_node, value_node)});
  }
}

std::optional<Item> MapReader::get(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) return entry.value;
  }
  return std::nullopt;
}

Item MapReader::require(std::string_view key) const {
  std::optional<Item> found = get(key);
  if (!found) {
    Item{item_.node, item_.mark, joinPath(item_.path, key)}.fail("required");
  }
  return *found;
}

std::vector<Item> listItems(const Item& item) {
  if (!item.node.IsSequence()) item.fail("expected a list");
  std::vector<Item> out;
  size_t index = 0;
  for (const YAML::Node& element : item.node) out.push_back(item.element(index++, element));
  return out;
}

std::string readString(const Item& item) {
  const std::string& text = scalarOf(item, "a string");
  if (text.empty()) item.fail("must not be empty");
  return text;
}

int64_t readInteger(const Item& item, int64_t min, int64_t max) {
  const std::string& text = scalarOf(item, "an integer");
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool whole = ec == std::errc() && end == text.data() + text.size();
  if (!whole && ec != std::errc::result_out_of_range) item.fail("expected an integer");
  if (!whole || value < min || value > max) {
    item.fail("must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

bool readBool(const Item& item) {
  std::string text = lower(scalarOf(item, "true or false"));
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  item.fail("expected true or false");
}

Duration readTimeout(const Item& item) {
  std::optional<Duration> value = parseDuration(scalarOf(item, "a duration such as 30s or 500ms"));
  if (!value) item.fail("expected a duration such as 30s or 500ms");
  if (value->count() <= 0) item.fail("must be greater than 0");
  return *value;
}

Duration readDuration(const Item& item) {
  const std::string& text = scalarOf(item, "a duration such as 30s or 500ms");
  if (text == "0") return Duration(0);
  std::optional<Duration> value = parseDuration(text);
  if (!value || value->count() < 0) item.fail("expected a duration such as 30s or 500ms, or 0");
  return *value;
}

double readNumber(const Item& item, double min, double max) {
  const std::string& text = scalarOf(item, "a number");
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) item.fail("expected a number");
  if (value < min || value > max) {
    char range[96];
    std::snprintf(range, sizeof range, "must be between %g and %g", min, max);
    item.fail(range);
  }
  return value;
}

uint64_t readSize(const Item& item) {
  std::optional<uint64_t> value = parseByteSize(scalarOf(item, "a size such as 64KiB"));
  if (!value) item.fail("expected a size such as 64KiB");
  if (*value == 0) item.fail("must be greater than 0");
  return *value;
}

std::string readChoice(const Item& item, std::initializer_list<std::string_view> choices) {
  const std::string& text = scalarOf(item, "one of: " + joined(choices));
  for (std::string_view choice : choices) {
    if (text == choice) return text;
  }
  item.fail("expected one of: " + joined(choices) + " (got " + quoted(text) + ")");
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    size_t distance = editDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : " (did you mean " + quoted(best) + "?)";
}

}  // namespace weir::config::detail
