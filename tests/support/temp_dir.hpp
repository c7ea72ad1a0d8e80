// A fresh folder under the system's temp folder, removed with its contents
// when the object goes. Owned by one test.
#pragma once

#include <filesystem>
#include <string>

namespace flareq::test {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace flareq::test
