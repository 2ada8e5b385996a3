// Batches of image files for ImageNet-style models: each image decoded (PNG/JPEG of any size),
// transformed (datasets/image_transforms.hpp) and normalised on a background thread that fans
// the images of a batch out over several threads, so the training step does not wait for one
// core to decode. Same (seed, epoch) -> same batches, whatever the thread count: the order
// comes from epoch_order() and each image's random crop/flip from augment_random(seed, epoch,
// position) (datasets/dataloader.hpp). See docs/image_pipeline.md.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/tensor.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/image_files.hpp"
#include "datasets/image_transforms.hpp"

namespace dlcraft {

struct ImageLoaderOptions {
  int batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  ImageTransform transform = train_transform();  // eval_transform() for validation
  int prefetch = 2;  // batches prepared ahead (each 3 * crop * crop floats per image)
  int threads = 0;   // images decoded at once; 0: num_threads() when the loader is made
};

class ImageBatchLoader : public BatchSource {
 public:
  // `data` is kept (paths only). ArgumentError for an empty data set, batch_size < 1,
  // prefetch < 0, threads < 0 or a bad transform.
  ImageBatchLoader(ImageFileDataset data, ImageLoaderOptions options);
  // Stops the worker (after the images it is decoding) and joins it.
  ~ImageBatchLoader() override;
  ImageBatchLoader(const ImageBatchLoader&) = delete;
  ImageBatchLoader& operator=(const ImageBatchLoader&) = delete;

  // Batches in one epoch; the last, partial batch is kept.
  int64_t batches_per_epoch() const override;
  // Starts producing the batches of `epoch` (stops a previous epoch still running).
  void start_epoch(int64_t epoch) override;
  // The next batch (images: size * 3 * crop * crop floats, NCHW), nullptr at the end of the
  // epoch or before start_epoch. Valid until the next call. When an image cannot be read or
  // transformed, the call that would return its batch throws the error naming the file (an
  // IOError, or OutOfMemoryError), and so does every later call until start_epoch.
  const Batch* next();
  // next(), as an (n, 3, crop, crop) float32 tensor on `device` and its labels.
  bool next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) override;

  const ImageFileDataset& data() const { return data_; }
  const ImageLoaderOptions& options() const { return opt_; }
  int threads() const { return threads_; }

 private:
  void produce(int64_t epoch);
  void fill(Batch& batch, const std::vector<int64_t>& order, int64_t begin, int64_t epoch);
  void stop();

  ImageFileDataset data_;
  ImageLoaderOptions opt_;
  int threads_ = 1;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Batch> slots_;      // prefetch + 1 buffers, allocated once
  std::deque<int> free_, ready_;  // slot indices
  int in_use_ = -1;               // slot handed to the caller
  int64_t consumed_ = 0, total_ = 0;
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;      // after the batches in ready_
};

// One image file through `transform` (the eval pipeline by default): a (1, 3, crop, crop)
// tensor on `device`. IOError naming the file when it cannot be read.
Tensor load_image_tensor(const std::string& path, const ImageTransform& transform = eval_transform(),
                         Device device = Device::cpu());
// Several files, decoded in parallel: (N, 3, crop, crop) in the order given. A Train transform
// draws image i's crop and flip from augment_random(0, 0, i). IOError naming the first file (in
// the order given) that cannot be read; ArgumentError when `paths` is empty.
Tensor load_image_batch(const std::vector<std::string>& paths, const ImageTransform& transform = eval_transform(),
                        Device device = Device::cpu());

}  // namespace dlcraft
