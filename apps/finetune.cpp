// finetune: transfer learning (전이 학습) — a pretrained ResNet/VGG gets a new head sized to an
// image folder's classes and is trained on it, the notes' food-photo chapter.
//   finetune --model resnet18 --weights resnet18.safetensors --data food/ --epochs 5 --lr 1e-4
//   finetune ... --freeze-backbone     only the new head trains (the backbone is a fixed
//                                      feature extractor; its BatchNorms stay in eval mode)
// --data: DIR/train (+ DIR/val and/or DIR/test), or DIR/<class>/... split at random by class
// (--val-fraction to val and as much to test). Per epoch: train and val loss/accuracy; at the
// end the test accuracy. Checkpoints (--save, default finetuned.safetensors) hold the classes,
// so `classify --weights` on them prints class names; --resume continues as train_cifar does.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "apps/app_common.hpp"
#include "train/progress.hpp"
#include "train/training.hpp"
#include "apps/zoo_common.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/random.hpp"
#include "core/safetensors.hpp"
#include "core/threads.hpp"
#include "datasets/image_loader.hpp"
#include "layers/checkpoint.hpp"

using namespace dlcraft;

namespace {

struct Flags {
  std::string model = "resnet18", weights, data, save, resume, device = "auto", optimizer = "adam";
  int64_t epochs = 5;
  float lr = 1e-4f, momentum = 0.9f, weight_decay = 0.0f;
  int batch_size = 32, image_size = 224;
  double val_fraction = 0.1;
  bool freeze_backbone = false, no_augment = false;
  uint64_t seed = 0;
  int threads = std::max(1u, std::thread::hardware_concurrency());
};

struct Splits {
  ImageFileDataset train, val, test;  // test may be empty
  std::string layout;
};

// Each class gives round(fraction * n) of its images (at least 1 when it has 3 or more) to
// `taken`, chosen by a seeded shuffle; the rest stay. Order within each part is kept.
void split_by_class(const ImageFileDataset& all, double fraction, uint64_t seed, ImageFileDataset& rest,
                    ImageFileDataset& taken) {
  Generator gen(seed);
  std::vector<int64_t> keep, take;
  for (int32_t c = 0; c < int32_t(all.classes.size()); ++c) {
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < all.size(); ++i)
      if (all.labels[size_t(i)] == c) idx.push_back(i);
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[gen.below(i)]);
    int64_t k = std::llround(fraction * double(idx.size()));
    if (idx.size() >= 3) k = std::clamp<int64_t>(k, 1, int64_t(idx.size()) - 2);
    else k = 0;
    take.insert(take.end(), idx.begin(), idx.begin() + k);
    keep.insert(keep.end(), idx.begin() + k, idx.end());
  }
  std::sort(keep.begin(), keep.end());
  std::sort(take.begin(), take.end());
  rest = all.subset(keep);
  taken = all.subset(take);
}

void check_same_classes(const ImageFileDataset& a, const ImageFileDataset& b) {
  if (a.classes != b.classes)
    throw IOError(b.root + ": its classes differ from " + a.root + "'s (" + std::to_string(b.classes.size()) +
                  " vs " + std::to_string(a.classes.size()) + " class folders)");
}

Splits read_splits(const std::string& dir, double val_fraction, uint64_t seed) {
  Splits s;
  auto sub = [&](const char* name) { return dir + "/" + name; };
  if (is_directory(sub("train"))) {
    s.train = scan_image_files(sub("train"));
    if (is_directory(sub("val"))) {
      s.val = scan_image_files(sub("val"));
      check_same_classes(s.train, s.val);
    }
    if (is_directory(sub("test"))) {
      s.test = scan_image_files(sub("test"));
      check_same_classes(s.train, s.test);
    }
    if (s.val.size() == 0) {  // no val/: a part of train is held out for it
      ImageFileDataset all = s.train;
      split_by_class(all, val_fraction, seed, s.train, s.val);
      s.layout = is_directory(sub("test")) ? "train/ + test/ folders, val held out of train" : "train/ folder, val held out";
    } else {
      s.layout = is_directory(sub("test")) ? "train/ val/ test/ folders" : "train/ and val/ folders";
    }
  } else {
    ImageFileDataset all = scan_image_files(dir), rest;
    split_by_class(all, val_fraction, seed, rest, s.test);
    split_by_class(rest, val_fraction / (1.0 - val_fraction), seed + 1, s.train, s.val);
    s.layout = "one folder split at random by class";
  }
  if (s.train.size() == 0 || s.val.size() == 0)
    throw IOError(dir + ": too few images to hold out a validation set (" + std::to_string(s.train.size() + s.val.size()) +
                  " images; give it train/ and val/ folders or more images)");
  return s;
}

std::string head_name(const std::string& model) { return model.rfind("vgg", 0) == 0 ? "classifier.6" : "fc"; }

int run(const Flags& f) {
  set_num_threads(f.threads);
  const Device device = choose_device(f.device);
  Metadata resumed;
  uint64_t seed = f.seed;
  int64_t start_epoch = 1;
  if (!f.resume.empty()) {
    const CheckpointRecovery rec = recover_checkpoint(f.resume);
    if (!rec.note.empty()) std::printf("resume: %s\n", rec.note.c_str());
    if (!file_exists(f.resume)) throw IOError(f.resume + ": checkpoint not found (--resume)");
    resumed = read_safetensors_metadata(f.resume);
    if (!resumed.count("format") || resumed.at("format") != "dlcraft-finetune")
      throw IOError(f.resume + ": not a finetune checkpoint (metadata 'format' is not dlcraft-finetune)");
    if (resumed.count("model") && resumed.at("model") != f.model)
      throw IOError(f.resume + ": holds a " + resumed.at("model").substr(0, 40) + ", but --model is " + f.model);
    start_epoch = get_metadata_int(resumed, "epoch", f.resume, 1, 1'000'000'000) + 1;
    seed = get_metadata_uint64(resumed, "seed", f.resume);
  } else if (f.weights.empty()) {
    std::printf("weights: none given: the model starts from random weights (no transfer)\n");
  }

  Splits data = read_splits(f.data, f.val_fraction, seed);
  const int num_classes = int(data.train.classes.size());
  if (num_classes < 2) throw IOError(f.data + ": needs at least 2 class folders, found " + std::to_string(num_classes));
  if (!resumed.empty() && get_class_names(resumed, f.resume) != data.train.classes)
    throw IOError(f.resume + ": its classes differ from the class folders in " + f.data);
  std::printf("data: %s (%s): %lld train / %lld val / %lld test images, %d classes\n", f.data.c_str(),
              data.layout.c_str(), (long long)data.train.size(), (long long)data.val.size(),
              (long long)data.test.size(), num_classes);

  manual_seed(seed);
  std::shared_ptr<Module> model;
  if (!f.weights.empty() && resumed.empty()) {
    model = load_zoo_model(f.model, f.weights, Device::cpu()).model;
    std::printf("weights: %s\n", f.weights.c_str());
  } else {
    model = make_model(f.model, num_classes);
  }
  reset_classifier(*model, num_classes);  // the new head: one output per class folder
  Module& head = model->submodule(head_name(f.model));
  model->train();
  if (f.freeze_backbone) {
    // Only the head learns; the backbone is a fixed feature extractor, so its BatchNorms keep
    // the pretrained running statistics (eval mode) — Keras' trainable = False.
    model->requires_grad_(false);
    model->eval();
    head.requires_grad_(true);
    head.train();
  }
  model->to(device);
  std::unique_ptr<Optimizer> opt;
  if (f.optimizer == "adam")
    opt = std::make_unique<Adam>(model->trainable_parameters(), AdamOptions{f.lr, 0.9f, 0.999f, 1e-8f, f.weight_decay});
  else
    opt = std::make_unique<SGD>(model->trainable_parameters(), SgdOptions{f.lr, f.momentum, 0.0f, f.weight_decay, false});
  if (!resumed.empty()) {
    load_weights(f.resume, *model);
    check_finite_weights(*model, f.resume);
    load_optimizer_state(f.resume, *opt, resumed);
    std::printf("resume: %s at the end of epoch %lld\n", f.resume.c_str(), (long long)(start_epoch - 1));
  }
  int64_t trainable = 0;
  for (auto& [n, p] : model->trainable_parameters()) trainable += p.numel();
  std::printf("model: %s, %lld parameters (%lld trained%s), device %s, %s lr %g, batch %d, %dx%d images\n",
              f.model.c_str(), (long long)model->parameter_count(), (long long)trainable,
              f.freeze_backbone ? ": backbone frozen" : "", device.str().c_str(), f.optimizer.c_str(), f.lr,
              f.batch_size, f.image_size, f.image_size);

  ImageLoaderOptions train_opt;
  train_opt.batch_size = f.batch_size;
  train_opt.seed = seed;
  train_opt.transform = train_transform(f.image_size);
  // The eval pipeline keeps torchvision's 256/224 ratio between Resize and CenterCrop.
  const ImageTransform eval_tf = eval_transform(int(std::lround(f.image_size * 256.0 / 224.0)), f.image_size);
  if (f.no_augment) train_opt.transform = eval_tf;
  ImageLoaderOptions eval_opt = train_opt;
  eval_opt.shuffle = false;
  eval_opt.transform = eval_tf;
  ImageBatchLoader train_loader(data.train, train_opt), val_loader(data.val, eval_opt);
  std::unique_ptr<ImageBatchLoader> test_loader;
  if (data.test.size() > 0) test_loader = std::make_unique<ImageBatchLoader>(data.test, eval_opt);

  const std::string save_path = !f.save.empty() ? f.save : !f.resume.empty() ? f.resume : "finetuned.safetensors";
  int64_t last_saved = -1;
  for (int64_t epoch = start_epoch; epoch <= f.epochs; ++epoch) {
    Progress progress(epoch, f.epochs);
    EpochResult train;
    try {
      train = train_epoch(*model, *opt, train_loader, epoch, device, [&](const StepInfo& s) { progress.update(s); });
    } catch (const DivergenceError& e) {
      progress.finish();
      std::fprintf(stderr, "error: %s\n", e.what());
      if (last_saved > 0)
        std::fprintf(stderr, "the last good checkpoint is %s (epoch %lld)\n", save_path.c_str(), (long long)last_saved);
      return 3;
    }
    progress.finish();
    const EpochResult val = evaluate(*model, val_loader, device);
    std::printf("epoch %lld/%lld: train loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% | %s, %.1f img/s\n",
                (long long)epoch, (long long)f.epochs, train.loss, 100 * train.accuracy(), val.loss,
                100 * val.accuracy(), format_duration(train.seconds).c_str(),
                train.seen / std::max(train.seconds, 1e-9));
    Metadata m{{"epoch", std::to_string(epoch)}, {"seed", std::to_string(seed)}, {"format", "dlcraft-finetune"},
               {"model", f.model}, {"optimizer", f.optimizer}, {"image_size", std::to_string(f.image_size)},
               {"transform", eval_tf.str()}, {"resize_size", std::to_string(eval_tf.resize)},
               {"crop_size", std::to_string(eval_tf.crop)}};
    put_class_names(m, data.train.classes);
    save_checkpoint(save_path, *model, opt.get(), m);
    last_saved = epoch;
  }
  if (start_epoch > f.epochs)
    std::printf("resume: the checkpoint already has %lld epochs (--epochs %lld)\n", (long long)(start_epoch - 1),
                (long long)f.epochs);
  BatchSource& final_loader = test_loader ? static_cast<BatchSource&>(*test_loader) : val_loader;
  const EpochResult test = evaluate(*model, final_loader, device);
  std::printf("%s accuracy: %.2f%% (%lld/%lld)%s\n", test_loader ? "test" : "val", 100 * test.accuracy(),
              (long long)test.correct, (long long)test.seen, test_loader ? "" : " (no test images: on val)");
  std::printf("saved: %s\n", save_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Flags f;
  CLI::App app{"Fine-tune a pretrained ResNet or VGG on an image folder (transfer learning)."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("--model", f.model, "resnet18 ... resnet152, vgg16 or vgg16_bn")->check(CLI::IsMember(model_names()))->capture_default_str();
  app.add_option("--weights", f.weights, "pretrained weights (.safetensors); without them the model starts from random weights");
  app.add_option("--data", f.data, "image folder: DIR/train (+ val/, test/) or DIR/<class>/...")->required();
  app.add_option("--epochs", f.epochs, "number of epochs")->check(CLI::Range(int64_t(1), int64_t(1'000'000'000)))->capture_default_str();
  app.add_option("--lr", f.lr, "learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--batch-size", f.batch_size, "images per step")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--image-size", f.image_size, "the model's input side (crop)")->check(CLI::Range(32, 1024))->capture_default_str();
  app.add_flag("--freeze-backbone", f.freeze_backbone, "train only the new head");
  app.add_flag("--no-augment", f.no_augment, "train on the eval transform (no random crop / flip)");
  app.add_option("--val-fraction", f.val_fraction, "part held out for val (and for test) when there are no such folders")
      ->check(CLI::Range(0.01, 0.45))->capture_default_str();
  app.add_option("--optimizer", f.optimizer, "adam or sgd")->check(CLI::IsMember({"adam", "sgd"}))->capture_default_str();
  app.add_option("--momentum", f.momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--weight-decay", f.weight_decay, "L2 weight decay")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--save", f.save, "checkpoint written after every epoch (default finetuned.safetensors, or the --resume file)");
  app.add_option("--resume", f.resume, "continue from this finetune checkpoint");
  app.add_option("--device", f.device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--seed", f.seed, "seed for the new head, the split, shuffling and augmentation")->capture_default_str();
  app.add_option("--threads", f.threads, "CPU threads")->check(CLI::Range(1, 1024))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
