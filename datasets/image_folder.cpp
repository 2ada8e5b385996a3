#include "datasets/image_folder.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <filesystem>
#include <new>
#include <utility>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "datasets/image_io.hpp"

namespace dlcraft {
namespace fs = std::filesystem;

namespace {
bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  // .bmp is listed so that a BMP is named in an "unsupported image format" error, not skipped.
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The exception being handled, as a dlcraft::Error naming `file` (bad_alloc becomes
// OutOfMemoryError). Never throws: if even the message cannot be built, the original is kept.
std::exception_ptr error_naming(const std::string& file) noexcept {
  const std::exception_ptr original = std::current_exception();
  try {
    try {
      std::rethrow_exception(original);
    } catch (const Error&) {
      return original;
    } catch (const std::bad_alloc&) {
      throw OutOfMemoryError(file + ": out of memory while decoding the image");
    } catch (const std::exception& e) {
      throw IOError(file + ": " + e.what());
    } catch (...) {
      throw IOError(file + ": unknown error while decoding the image");
    }
  } catch (const Error&) {
    return std::current_exception();
  } catch (...) {
    return original;
  }
}
}  // namespace

ImageFolderResult load_image_folder(const std::string& root) {
  if (!is_directory(root)) throw IOError(root + ": not a directory");
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw IOError(root + ": no class sub-directories (expected root/<class>/*.png|jpg)");

  std::vector<std::pair<std::string, int32_t>> files;
  for (size_t label = 0; label < classes.size(); ++label) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fs::path(root) / classes[label]))
      if (entry.is_regular_file() && is_image_file(entry.path())) names.push_back(entry.path().string());
    std::sort(names.begin(), names.end());
    for (auto& n : names) files.emplace_back(std::move(n), int32_t(label));
  }
  if (files.empty()) throw IOError(root + ": no .png/.jpg images under its class folders");

  ImageFolderResult out;
  out.data.classes = classes;
  out.data.labels.resize(files.size());
  out.data.images.resize(files.size() * ImageDataset::kImageBytes);
  // An exception must not leave an OpenMP loop (std::terminate). Each iteration catches; the
  // failure with the lowest index is kept, so every run reports the same file, and rethrown
  // after the loop. Files after a known failure are skipped.
  const int64_t n = int64_t(files.size());
  std::atomic<int64_t> first_failed{n};
  std::exception_ptr error;
  int64_t resized = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : resized)
  for (int64_t i = 0; i < n; ++i) {
    if (i > first_failed.load(std::memory_order_relaxed)) continue;
    try {
      RgbImage img = read_image(files[i].first);
      if (img.width != ImageDataset::kWidth || img.height != ImageDataset::kHeight) {
        img = resize_bilinear(img, ImageDataset::kWidth, ImageDataset::kHeight);
        ++resized;
      }
      hwc_to_chw(img, out.data.images.data() + i * ImageDataset::kImageBytes);
      out.data.labels[i] = files[i].second;
    } catch (...) {
      std::exception_ptr failed = error_naming(files[i].first);
#pragma omp critical(dlcraft_image_folder_error)
      if (i < first_failed.load()) {
        first_failed.store(i);
        error = failed;
      }
    }
  }
  if (error) std::rethrow_exception(error);
  out.resized = resized;
  return out;
}

bool is_image_folder_split_dir(const std::string& dir) {
  return is_directory(dir + "/train") && is_directory(dir + "/test");
}

}  // namespace dlcraft
