// File helpers that keep good data safe: a file is written to a temporary name beside it and
// renamed over the old one only once it is complete, so a crash never leaves half a file.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace dlcraft {

// Calls write(stream) on "<path>.tmp-<pid>", checks the stream, then renames it to `path`.
// Throws IOError naming the path when anything fails (the old file is left as it was).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// The whole file as bytes; IOError naming the file when it cannot be read.
std::vector<char> read_file_bytes(const std::string& path);

bool file_exists(const std::string& path);
bool is_directory(const std::string& path);

}  // namespace dlcraft
