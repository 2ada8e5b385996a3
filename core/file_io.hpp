// File helpers that keep good data safe: a file is written to a temporary name beside it,
// flushed to the disk (fsync) and renamed over the old one only once it is complete, so a crash
// or kill never leaves half a file under the real name.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace dlcraft {

// Calls write(stream) on "<path>.tmp" (a fixed name: a temp left by a killed run is simply
// overwritten by the next one), fsyncs it, renames it to `path` and fsyncs the directory.
// Throws IOError naming the path when anything fails (the old file is left as it was).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// Calls write(stream) on `path` itself (truncating it) and fsyncs it before returning. The
// building block for multi-file commits (layers/checkpoint_files.cpp); on failure the partial
// file is removed and IOError names it.
void write_file_durable(const std::string& path, const std::function<void(std::ostream&)>& write);
// rename(from, to), then fsync of the directory so the rename survives a power loss.
void rename_durable(const std::string& from, const std::string& to);
// Removes `path` if it exists (IOError when it exists and cannot be removed).
void remove_file(const std::string& path);

// The whole file as bytes; IOError naming the file when it cannot be read.
std::vector<char> read_file_bytes(const std::string& path);
// Up to `count` bytes from the start of the file, and the file's size.
std::vector<char> read_file_prefix(const std::string& path, uint64_t count, uint64_t* file_size);

bool file_exists(const std::string& path);
bool is_directory(const std::string& path);

}  // namespace dlcraft
