#include "datasets/image_files.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "core/random.hpp"

namespace dlcraft {
namespace fs = std::filesystem;

namespace {
std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

bool is_readable_image_name(const std::string& ext) { return ext == ".png" || ext == ".jpg" || ext == ".jpeg"; }

// The rest of torchvision's IMG_EXTENSIONS: ImageFolder would load these, we cannot.
bool is_unsupported_image_name(const std::string& ext) {
  return ext == ".bmp" || ext == ".gif" || ext == ".pgm" || ext == ".ppm" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp";
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

std::vector<std::string> class_folders(const std::string& root) {
  std::vector<std::string> classes;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    if (is_dir(it->path())) classes.push_back(it->path().filename().string());
  if (ec) throw IOError(root + ": cannot list the folder: " + ec.message());
  std::sort(classes.begin(), classes.end());
  return classes;
}

// The images under one class folder in ImageFolder's order: sorted(os.walk(dir)) visits the
// folders by path, and each folder's files by name.
void scan_class(const fs::path& dir, std::vector<std::string>& images, std::vector<std::string>& unsupported) {
  std::map<std::string, std::vector<std::string>> by_folder;  // sorted by folder path
  by_folder[dir.string()];
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (is_dir(it->path())) {
      if (it->is_symlink()) it.disable_recursion_pending();  // no loops through links
      continue;
    }
    const std::string ext = lower_extension(it->path());
    if (is_readable_image_name(ext))
      by_folder[it->path().parent_path().string()].push_back(it->path().filename().string());
    else if (is_unsupported_image_name(ext))
      unsupported.push_back(it->path().string());
  }
  if (ec) throw IOError(dir.string() + ": cannot list the folder: " + ec.message());
  for (auto& [folder, names] : by_folder) {
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) images.push_back((fs::path(folder) / n).string());
  }
}

std::string list(const std::vector<std::string>& names, size_t most = 5) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < most; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > most) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s;
}
}  // namespace

RgbImage ImageFileDataset::read(int64_t i) const {
  if (i < 0 || i >= size())
    throw ArgumentError("ImageFileDataset::read: index " + std::to_string(i) + " of " + std::to_string(size()) +
                        " samples");
  return read_image(paths[i]);
}

ImageFileDataset ImageFileDataset::subset(const std::vector<int64_t>& indices) const {
  ImageFileDataset out;
  out.root = root;
  out.classes = classes;
  out.paths.reserve(indices.size());
  out.labels.reserve(indices.size());
  for (int64_t i : indices) {
    if (i < 0 || i >= size())
      throw ArgumentError("ImageFileDataset::subset: index " + std::to_string(i) + " of " + std::to_string(size()) +
                          " samples");
    out.paths.push_back(paths[i]);
    out.labels.push_back(labels[i]);
  }
  return out;
}

std::vector<int64_t> ImageFileDataset::class_counts() const {
  std::vector<int64_t> counts(classes.size(), 0);
  for (int32_t l : labels)
    if (l >= 0 && size_t(l) < counts.size()) ++counts[l];
  return counts;
}

ImageFileDataset scan_image_files(const std::string& root) {
  if (!is_dir(root)) throw IOError(root + ": not a folder (expected root/<class>/*.png|jpg|jpeg)");
  ImageFileDataset out;
  out.root = root;
  out.classes = class_folders(root);
  if (out.classes.empty()) throw IOError(root + ": no class folders (expected root/<class>/*.png|jpg|jpeg)");
  std::vector<std::string> empty;
  for (size_t label = 0; label < out.classes.size(); ++label) {
    std::vector<std::string> images;
    scan_class(fs::path(root) / out.classes[label], images, out.unsupported);
    if (images.empty()) empty.push_back((fs::path(root) / out.classes[label]).string());
    for (std::string& p : images) {
      out.paths.push_back(std::move(p));
      out.labels.push_back(int32_t(label));
    }
  }
  if (out.paths.empty())
    throw IOError(root + ": no .png/.jpg/.jpeg images in its " + std::to_string(out.classes.size()) +
                  " class folders (" + list(out.classes) + ")");
  if (!empty.empty())
    throw IOError("class folder" + std::string(empty.size() > 1 ? "s " : " ") + list(empty) +
                  " without .png/.jpg/.jpeg images (every class needs at least one)");
  return out;
}

ImageFileSplit split_image_files(const ImageFileDataset& data, double val_fraction, uint64_t seed) {
  if (!(val_fraction > 0 && val_fraction < 1))
    throw ArgumentError("split_image_files: the validation fraction must be between 0 and 1 (exclusive), got " +
                        std::to_string(val_fraction));
  std::vector<std::vector<int64_t>> by_class(data.classes.size());
  for (int64_t i = 0; i < data.size(); ++i) {
    const int32_t l = data.labels[i];
    if (l < 0 || size_t(l) >= by_class.size())
      throw ArgumentError("split_image_files: " + data.paths[i] + " has label " + std::to_string(l) + " of " +
                          std::to_string(by_class.size()) + " classes");
    by_class[l].push_back(i);
  }
  Generator gen(mix64(seed ^ 0x5b117e5eedull));
  std::vector<int64_t> train, val;
  for (std::vector<int64_t>& idx : by_class) {
    const int64_t n = int64_t(idx.size());
    for (int64_t i = n - 1; i > 0; --i) std::swap(idx[i], idx[gen.below(uint64_t(i) + 1)]);  // Fisher-Yates
    int64_t n_val = std::llround(val_fraction * double(n));
    if (n >= 2) n_val = std::clamp<int64_t>(n_val, 1, n - 1);
    else n_val = 0;  // a single image trains
    val.insert(val.end(), idx.begin(), idx.begin() + n_val);
    train.insert(train.end(), idx.begin() + n_val, idx.end());
  }
  std::sort(train.begin(), train.end());  // the scan's order within each part
  std::sort(val.begin(), val.end());
  return {data.subset(train), data.subset(val), "random"};
}

ImageFileSplit split_image_files(const std::string& root, double val_fraction, uint64_t seed) {
  const fs::path r(root);
  const bool has_train = is_dir(r / "train");
  const std::string held = is_dir(r / "val") ? "val" : is_dir(r / "test") ? "test" : "";
  if (has_train && !held.empty()) {
    ImageFileSplit out;
    out.layout = "folders";
    out.train = scan_image_files((r / "train").string());
    out.val = scan_image_files((r / held).string());
    if (out.train.classes != out.val.classes) {
      std::vector<std::string> only_train, only_val;
      std::set_difference(out.train.classes.begin(), out.train.classes.end(), out.val.classes.begin(),
                          out.val.classes.end(), std::back_inserter(only_train));
      std::set_difference(out.val.classes.begin(), out.val.classes.end(), out.train.classes.begin(),
                          out.train.classes.end(), std::back_inserter(only_val));
      throw IOError(out.train.root + " and " + out.val.root + " have different classes (" +
                    std::to_string(out.train.classes.size()) + " and " + std::to_string(out.val.classes.size()) +
                    ")" + (only_train.empty() ? "" : "; only in train: " + list(only_train)) +
                    (only_val.empty() ? "" : "; only in " + held + ": " + list(only_val)));
    }
    return out;
  }
  // Half of a split layout is a mistake, not two classes called "train" and "val".
  if (has_train || !held.empty())
    throw IOError(root + ": has " + (has_train ? "train/ but no val/ or test/" : held + "/ but no train/") +
                  " folder; give both, or class folders alone for a random split");
  if (!(val_fraction > 0 && val_fraction < 1))  // before the scan, which may be long
    throw ArgumentError("split_image_files: the validation fraction must be between 0 and 1 (exclusive), got " +
                        std::to_string(val_fraction));
  return split_image_files(scan_image_files(root), val_fraction, seed);
}

}  // namespace dlcraft
