// Numbered migrations: a fresh database gets them all, an older one the
// missing ones in order, a newer one is refused, and a migration that fails
// leaves the database at the version before it.
#include "db/schema.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db/encrypted_db.h"
#include "db/encrypted_vfs.h"
#include "testutil/temp_dir.h"

namespace mailvault::db {
namespace {

crypto::SymmetricKey Key() {
  crypto::SymmetricKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(7 + i);
  return k;
}

// Three versions of a small database: 1 creates notes, 2 adds a column
// filled from another, 3 adds a table.
Schema Notes(int64_t up_to = 3) {
  Schema s;
  s.kind = "notes database";
  s.version_key = "notes_schema";
  s.too_old_hint = "start over";
  const Migration all[] = {
      {1, "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT NOT NULL);"},
      {2,
       "ALTER TABLE notes ADD COLUMN title TEXT NOT NULL DEFAULT '';"
       "UPDATE notes SET title = substr(text, 1, 3);"},
      {3, "CREATE TABLE tags(note INTEGER NOT NULL, tag TEXT NOT NULL);"},
  };
  for (const Migration& m : all) {
    if (m.version <= up_to) s.migrations.push_back(m);
  }
  return s;
}

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto vfs = EncryptedVfs::Register(Key());
    ASSERT_TRUE(vfs.ok()) << vfs.status().ToString();
    vfs_ = std::move(*vfs);
  }

  // Opens the database as a writer or reader through `schema`.
  Result<OpenedDb> Open(const Schema& schema, bool read_only = false) {
    EncryptedDbOptions o;
    o.path = path_;
    o.what_kind = schema.kind;
    o.read_only = read_only;
    return OpenDatabase(*vfs_, o, schema);
  }

  // The version stored in meta, read without the mechanism.
  int64_t StoredVersion() {
    EncryptedDbOptions o;
    o.path = path_;
    o.what_kind = "notes database";
    o.read_only = true;
    auto raw = OpenEncryptedDb(*vfs_, o);
    if (!raw.ok()) return -1;
    auto v = (*raw)->QueryInt("SELECT value FROM meta WHERE key = 'notes_schema'");
    return v.ok() ? *v : -1;
  }

  bool HasTable(SqliteDb& db, const std::string& name) {
    auto n = db.QueryText(("SELECT name FROM sqlite_schema WHERE name = '" + name + "'").c_str());
    return n.ok() && *n == name;
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/notes.db";
  std::unique_ptr<EncryptedVfs> vfs_;
};

TEST_F(SchemaTest, AFreshDatabaseGetsEveryMigration) {
  auto db = Open(Notes());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(db->schema_version, 3);
  EXPECT_TRUE(db->db->Exec("INSERT INTO notes(text, title) VALUES('hello', 'h')").ok());
  EXPECT_TRUE(HasTable(*db->db, "tags"));
  db->db.reset();
  EXPECT_EQ(StoredVersion(), 3);
}

TEST_F(SchemaTest, AnOlderDatabaseGetsTheMissingMigrationsInOrder) {
  for (int64_t old = 1; old <= 2; ++old) {
    SCOPED_TRACE("from version " + std::to_string(old));
    std::filesystem::remove(path_);
    {  // What the code of version `old` wrote, with a row in it.
      auto db = Open(Notes(old));
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      ASSERT_EQ(db->schema_version, old);
      ASSERT_TRUE(db->db->Exec("INSERT INTO notes(id, text) VALUES(1, 'abcdef')").ok());
    }
    auto db = Open(Notes());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ(db->schema_version, 3);
    // Migration 2 ran on the old row (from version 1) or was already there.
    auto title = db->db->QueryText("SELECT title FROM notes WHERE id = 1");
    ASSERT_TRUE(title.ok()) << title.status().ToString();
    EXPECT_EQ(*title, old == 1 ? "abc" : "");
    EXPECT_TRUE(HasTable(*db->db, "tags"));
  }
}

TEST_F(SchemaTest, ANewerDatabaseIsRefusedByNameNeverDowngraded) {
  ASSERT_TRUE(Open(Notes()).ok());
  for (bool read_only : {false, true}) {
    auto db = Open(Notes(2), read_only);
    ASSERT_EQ(db.status().code(), Code::kInvalidArgument) << db.status().ToString();
    EXPECT_NE(db.status().message().find("notes database schema version 3 is newer than this "
                                         "mailvault knows (up to 2)"),
              std::string::npos)
        << db.status().message();
  }
  EXPECT_EQ(StoredVersion(), 3);
}

TEST_F(SchemaTest, AFailedMigrationLeavesTheVersionBeforeIt) {
  {
    auto db = Open(Notes(1));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->db->Exec("INSERT INTO notes(id, text) VALUES(1, 'abcdef')").ok());
  }
  // Version 3 fails half-way: its first statement ran, its second did not.
  Schema broken = Notes();
  broken.migrations[2].sql = "CREATE TABLE tags(x); INSERT INTO no_such_table VALUES(1);";
  auto db = Open(broken);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("migration to schema version 3"), std::string::npos)
      << db.status().message();
  // Version 2 committed on its own; nothing of version 3 is left.
  EXPECT_EQ(StoredVersion(), 2);
  {
    auto reader = Open(Notes(2));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_FALSE(HasTable(*reader->db, "tags"));
    EXPECT_EQ(*reader->db->QueryText("SELECT title FROM notes WHERE id = 1"), "abc");
  }
  // A failure in the first missing step leaves the file as it was.
  std::filesystem::remove(path_);
  ASSERT_TRUE(Open(Notes(1)).ok());
  broken = Notes();
  broken.migrations[1].sql = "ALTER TABLE notes ADD COLUMN title TEXT; SELECT * FROM nowhere;";
  ASSERT_FALSE(Open(broken).ok());
  EXPECT_EQ(StoredVersion(), 1);
  // The fixed code then upgrades it.
  auto fixed = Open(Notes());
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->schema_version, 3);
}

TEST_F(SchemaTest, AReaderChecksWithoutMigrating) {
  auto none = Open(Notes(), /*read_only=*/true);
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();
  ASSERT_TRUE(Open(Notes(1)).ok());
  // Only the latest by default; older from oldest_readable on.
  auto latest_only = Open(Notes(), true);
  EXPECT_TRUE(latest_only.status().IsCorruption()) << latest_only.status().ToString();
  Schema lenient = Notes();
  lenient.oldest_readable = 1;
  auto old = Open(lenient, true);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->schema_version, 1);
  old->db.reset();
  EXPECT_EQ(StoredVersion(), 1);
}

TEST_F(SchemaTest, AVersionBelowTheFirstMigrationIsRefusedWithTheHint) {
  ASSERT_TRUE(Open(Notes(1)).ok());
  // Code that can only upgrade from version 2 on (its first migration
  // creates version 2 from nothing).
  Schema newer = Notes();
  newer.migrations.erase(newer.migrations.begin());
  newer.migrations[0].sql = "CREATE TABLE notes(id INTEGER PRIMARY KEY, text, title);";
  auto db = Open(newer);
  ASSERT_TRUE(db.status().IsCorruption()) << db.status().ToString();
  EXPECT_NE(db.status().message().find("older than the oldest this mailvault can upgrade (2); "
                                       "start over"),
            std::string::npos)
      << db.status().message();
  EXPECT_EQ(StoredVersion(), 1);
  // A fresh database starts at its first migration.
  std::filesystem::remove(path_);
  auto fresh = Open(newer);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->schema_version, 3);
}

TEST_F(SchemaTest, TablesWithoutAVersionAreNotThisDatabase) {
  {
    Schema other = Notes();
    other.version_key = "other_schema";
    ASSERT_TRUE(Open(other).ok());
  }
  auto db = Open(Notes());
  ASSERT_TRUE(db.status().IsCorruption()) << db.status().ToString();
  EXPECT_NE(db.status().message().find("not a mailvault notes database"), std::string::npos);
}

TEST_F(SchemaTest, AMalformedDeclarationIsRefused) {
  Schema gap = Notes();
  gap.migrations.erase(gap.migrations.begin() + 1);
  EXPECT_EQ(Open(gap).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open(Schema{}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace mailvault::db
