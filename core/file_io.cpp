#include "core/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <streambuf>

#include "core/error.hpp"

namespace dlcraft {

namespace {

std::string errno_text() { return std::strerror(errno); }

// A std::streambuf over a POSIX file descriptor: std::ofstream cannot fsync, and a checkpoint
// is only safe to rename once its bytes are on the disk.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buf_(1 << 20) { setp(buf_.data(), buf_.data() + buf_.size()); }
  bool flush_all() { return sync() == 0; }

 protected:
  int_type overflow(int_type c) override {
    if (sync() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    const char* p = pbase();
    while (p < pptr()) {
      ssize_t n = ::write(fd_, p, size_t(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return -1;
      p += n;
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return 0;
  }

 private:
  int fd_;
  std::vector<char> buf_;
};

std::string parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

void fsync_directory(const std::string& path) {
  const std::string dir = parent_dir(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw IOError(dir + ": cannot open the directory to sync it (" + errno_text() + ")");
  const int rc = ::fsync(fd), err = rc != 0 ? errno : 0;
  ::close(fd);
  // Some file systems do not sync directories; EINVAL just means "nothing to do there".
  if (rc != 0 && err != EINVAL)
    throw IOError(dir + ": cannot sync the directory (" + std::strerror(err) + ")");
}

}  // namespace

void write_file_durable(const std::string& path, const std::function<void(std::ostream&)>& write) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IOError(path + ": cannot write (" + errno_text() + ")");
  std::string error;
  try {
    FdBuf buf(fd);
    std::ostream out(&buf);
    out.exceptions(std::ios::badbit);
    write(out);
    out.flush();
    if (!out || !buf.flush_all()) error = "write failed (" + errno_text() + "; disk full?)";
    else if (::fsync(fd) != 0) error = "cannot sync to the disk (" + errno_text() + ")";
  } catch (const std::ios::failure&) {
    error = "write failed (" + errno_text() + "; disk full?)";
  } catch (...) {
    ::close(fd);
    std::remove(path.c_str());
    throw;
  }
  if (::close(fd) != 0 && error.empty()) error = "close failed (" + errno_text() + ")";
  if (!error.empty()) {
    std::remove(path.c_str());
    throw IOError(path + ": " + error);
  }
}

void rename_durable(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    throw IOError(to + ": cannot rename " + from + " to it (" + errno_text() + ")");
  fsync_directory(to);
}

void remove_file(const std::string& path) {
  if (std::remove(path.c_str()) != 0 && errno != ENOENT)
    throw IOError(path + ": cannot remove (" + errno_text() + ")");
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  write_file_durable(tmp, write);
  try {
    rename_durable(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

std::vector<char> read_file_bytes(const std::string& path) {
  uint64_t size = 0;
  std::vector<char> bytes = read_file_prefix(path, UINT64_MAX, &size);
  if (bytes.size() != size) throw IOError(path + ": read failed (the file changed while reading?)");
  return bytes;
}

std::vector<char> read_file_prefix(const std::string& path, uint64_t count, uint64_t* file_size) {
  if (is_directory(path)) throw IOError(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IOError(path + ": cannot open (" + errno_text() + ")");
  std::streamsize size = in.tellg();
  if (size < 0) throw IOError(path + ": cannot read");
  if (file_size) *file_size = uint64_t(size);
  std::vector<char> bytes(size_t(std::min<uint64_t>(uint64_t(size), count)));
  in.seekg(0);
  if (!bytes.empty() && !in.read(bytes.data(), std::streamsize(bytes.size())))
    throw IOError(path + ": read failed");
  return bytes;
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

}  // namespace dlcraft
