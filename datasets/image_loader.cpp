#include "datasets/image_loader.hpp"

#include <algorithm>
#include <new>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {
// The exception being handled, as one that names `file` (the decoders' IOErrors already do;
// a transform's error, e.g. a 1x8000 image that Resize would blow up, does not). Never throws.
std::exception_ptr error_naming(const std::string& file) noexcept {
  const std::exception_ptr original = std::current_exception();
  try {
    try {
      std::rethrow_exception(original);
    } catch (const std::bad_alloc&) {
      throw OutOfMemoryError(file + ": out of memory while decoding or transforming the image");
    } catch (const OutOfMemoryError& e) {
      if (std::string(e.what()).find(file) != std::string::npos) return original;
      throw OutOfMemoryError(file + ": " + e.what());
    } catch (const std::exception& e) {
      if (dynamic_cast<const IOError*>(&e) && std::string(e.what()).find(file) != std::string::npos)
        return original;
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

// Decodes and transforms images [0, n) into out (output_floats() each) on `threads` threads.
// `path(i)` and `random(i)` name and seed image i; `skip()` true abandons the rest. An
// exception must not leave an OpenMP loop, so each image catches; the failure with the lowest
// index is rethrown after the loop (the same file on every run, whatever the thread count).
template <class PathFn, class RandomFn, class SkipFn>
void transform_images(int64_t n, int threads, const ImageTransform& t, float* out, PathFn path, RandomFn random,
                      SkipFn skip) {
  const int64_t floats = t.output_floats();
  std::atomic<int64_t> first_failed{n};
  std::exception_ptr error;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) {
    if (i > first_failed.load(std::memory_order_relaxed) || skip()) continue;
    try {
      t.apply(read_image(path(i)), random(i), out + i * floats);
    } catch (...) {
      std::exception_ptr failed = error_naming(path(i));
#pragma omp critical(dlcraft_image_loader_error)
      if (i < first_failed.load()) {
        first_failed.store(i);
        error = failed;
      }
    }
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace

ImageBatchLoader::ImageBatchLoader(ImageFileDataset data, ImageLoaderOptions options)
    : data_(std::move(data)), opt_(std::move(options)) {
  const std::string who = "ImageBatchLoader";
  if (data_.size() == 0) throw ArgumentError(who + ": the data set is empty");
  if (data_.labels.size() != data_.paths.size())
    throw ArgumentError(who + ": " + std::to_string(data_.paths.size()) + " paths but " +
                        std::to_string(data_.labels.size()) + " labels");
  if (opt_.batch_size < 1) throw ArgumentError(who + ": batch size must be >= 1, got " + std::to_string(opt_.batch_size));
  if (opt_.prefetch < 0) throw ArgumentError(who + ": prefetch must be >= 0, got " + std::to_string(opt_.prefetch));
  if (opt_.threads < 0) throw ArgumentError(who + ": threads must be >= 0 (0: all), got " + std::to_string(opt_.threads));
  opt_.transform.check(who);
  // Read here: OpenMP's thread count is per thread, and the worker is a new one.
  threads_ = opt_.threads > 0 ? opt_.threads : std::max(1, num_threads());
  slots_.resize(size_t(opt_.prefetch) + 1);
  for (Batch& b : slots_) {
    b.images.resize(size_t(opt_.batch_size) * size_t(opt_.transform.output_floats()));
    b.labels.resize(opt_.batch_size);
  }
}

ImageBatchLoader::~ImageBatchLoader() { stop(); }

int64_t ImageBatchLoader::batches_per_epoch() const { return (data_.size() + opt_.batch_size - 1) / opt_.batch_size; }

void ImageBatchLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ImageBatchLoader::start_epoch(int64_t epoch) {
  stop();
  stopping_ = false;
  error_ = nullptr;
  free_.clear();
  ready_.clear();
  for (int i = 0; i < int(slots_.size()); ++i) free_.push_back(i);
  in_use_ = -1;
  consumed_ = 0;
  total_ = batches_per_epoch();
  worker_ = std::thread([this, epoch] { produce(epoch); });
}

void ImageBatchLoader::fill(Batch& batch, const std::vector<int64_t>& order, int64_t begin, int64_t epoch) {
  batch.size = std::min<int64_t>(opt_.batch_size, data_.size() - begin);
  for (int64_t i = 0; i < batch.size; ++i) batch.labels[i] = data_.labels[order[begin + i]];
  transform_images(
      batch.size, threads_, opt_.transform, batch.images.data(),
      [&](int64_t i) -> const std::string& { return data_.paths[order[begin + i]]; },
      [&](int64_t i) { return augment_random(opt_.seed, epoch, begin + i); },
      [&] { return stopping_.load(std::memory_order_relaxed); });
}

void ImageBatchLoader::produce(int64_t epoch) {
  try {
    const std::vector<int64_t> order = epoch_order(data_.size(), opt_.seed, epoch, opt_.shuffle);
    for (int64_t b = 0; b < total_; ++b) {
      int slot;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !free_.empty(); });
        if (stopping_) return;
        slot = free_.front();
        free_.pop_front();
      }
      fill(slots_[slot], order, b * opt_.batch_size, epoch);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;  // the batch may be partly filled
        ready_.push_back(slot);
      }
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    cv_.notify_all();
  }
}

const Batch* ImageBatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (in_use_ >= 0) {  // the caller is done with the previous batch
    free_.push_back(in_use_);
    in_use_ = -1;
    cv_.notify_all();
  }
  if (consumed_ == total_) return nullptr;
  // The batches made before a failure are handed out first, so the error comes in its place.
  cv_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (ready_.empty()) std::rethrow_exception(error_);
  in_use_ = ready_.front();
  ready_.pop_front();
  ++consumed_;
  return &slots_[in_use_];
}

bool ImageBatchLoader::next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) {
  // The previous batch's copy to the GPU may still be in flight from its page-locked slot;
  // next() hands that slot back to the worker, so wait for the copy first.
  if (device.is_cuda()) cuda_synchronize();
  const Batch* b = next();
  if (!b) return false;
  const int64_t crop = opt_.transform.crop;
  images = Tensor::empty({b->size, 3, crop, crop}, device);
  images.copy_from_host(b->images.data(), b->size * opt_.transform.output_floats());
  labels.assign(b->labels.begin(), b->labels.begin() + b->size);
  return true;
}

Tensor load_image_tensor(const std::string& path, const ImageTransform& transform, Device device) {
  return load_image_batch({path}, transform, device);
}

Tensor load_image_batch(const std::vector<std::string>& paths, const ImageTransform& transform, Device device) {
  if (paths.empty()) throw ArgumentError("load_image_batch: no image files given");
  transform.check("load_image_batch");
  const int64_t n = int64_t(paths.size());
  std::vector<float> values(size_t(n) * size_t(transform.output_floats()));
  transform_images(
      n, std::max(1, std::min<int>(num_threads(), int(n))), transform, values.data(),
      [&](int64_t i) -> const std::string& { return paths[i]; }, [](int64_t i) { return augment_random(0, 0, i); },
      [] { return false; });
  return Tensor::from_vector(values, {n, 3, transform.crop, transform.crop}, device);
}

}  // namespace dlcraft
