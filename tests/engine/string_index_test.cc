#include "src/engine/string_index.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <string>

namespace tkmprom {
namespace {

TEST(StringIndexTest, FindsWhatWasInsertedAndNothingElse) {
  StringIndex index;
  index.Insert("A1B2C3D4E5F6", 7);
  index.Insert("", 8);
  EXPECT_EQ(index.Find("A1B2C3D4E5F6"), 7u);
  EXPECT_EQ(index.Find(""), 8u);
  EXPECT_EQ(index.Find("A1B2C3D4E5F7"), StringIndex::kNone);
  EXPECT_EQ(index.Find("A1B2C3D4E5F"), StringIndex::kNone);
  EXPECT_EQ(index.size(), 2u);
}

// Names are hashed and compared a word at a time, with overlapping loads for
// the last bytes: every byte of every length must still tell names apart.
TEST(StringIndexTest, NamesDifferingInOneByteAreDifferentAtEveryLengthAndPosition) {
  for (size_t length = 1; length <= 25; ++length) {
    std::deque<std::string> names = {std::string(length, 'a')};
    for (size_t at = 0; at < length; ++at) {
      names.push_back(names[0]);
      names.back()[at] = 'b';
    }
    StringIndex index;
    for (uint32_t i = 0; i < names.size(); ++i) index.Insert(names[i], i);
    for (uint32_t i = 0; i < names.size(); ++i) {
      EXPECT_EQ(index.Find(names[i]), i) << "length " << length << ", name " << names[i];
    }
    EXPECT_EQ(index.Find(std::string(length, 'c')), StringIndex::kNone) << length;
    EXPECT_EQ(index.Find(std::string(length + 1, 'a')), StringIndex::kNone) << length;
  }
}

TEST(StringIndexTest, LongNamesAreComparedInTheCallersStorage) {
  std::deque<std::string> names = {std::string(21, 'x'), std::string(21, 'x') + "y",
                                   std::string(300, 'z')};
  StringIndex index;
  for (uint32_t i = 0; i < names.size(); ++i) index.Insert(names[i], i);
  for (uint32_t i = 0; i < names.size(); ++i) EXPECT_EQ(index.Find(names[i]), i);
  EXPECT_EQ(index.Find(std::string(21, 'y')), StringIndex::kNone);
  index.Erase(names[1]);
  EXPECT_EQ(index.Find(names[1]), StringIndex::kNone);
  EXPECT_EQ(index.Find(names[2]), 2u);
}

// A model check: random inserts and erases against std::map, through many
// rehashes and tombstone clean-ups.
TEST(StringIndexTest, AgreesWithAMapUnderChurn) {
  std::mt19937 rng(42);
  std::deque<std::string> storage;
  std::map<std::string, uint32_t> model;
  StringIndex index;
  for (int step = 0; step < 200000; ++step) {
    const int len = static_cast<int>(rng() % 30);
    std::string name;
    for (int k = 0; k < len; ++k) name.push_back(static_cast<char>('A' + rng() % 4));
    auto it = model.find(name);
    if (it == model.end()) {
      if (rng() % 3 != 0) {
        storage.push_back(name);
        index.Insert(storage.back(), static_cast<uint32_t>(step));
        model.emplace(name, static_cast<uint32_t>(step));
      }
    } else if (rng() % 2 == 0) {
      index.Erase(name);
      model.erase(it);
    }
    ASSERT_EQ(index.Find(name), model.count(name) ? model[name] : StringIndex::kNone) << step;
    ASSERT_EQ(index.size(), model.size());
  }
  for (const auto& [name, id] : model) EXPECT_EQ(index.Find(name), id);
}

TEST(StringIndexTest, EraseAndReinsertReusesWithoutGrowingWithoutBound) {
  std::deque<std::string> storage;
  StringIndex index;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 1000; ++i) {
      storage.push_back("dev" + std::to_string(round * 1000 + i));
      index.Insert(storage.back(), static_cast<uint32_t>(i));
    }
    for (int i = 0; i < 1000; ++i) index.Erase(storage[storage.size() - 1000 + i]);
    EXPECT_EQ(index.size(), 0u);
  }
  EXPECT_EQ(index.Find("dev49999"), StringIndex::kNone);
}

}  // namespace
}  // namespace tkmprom
