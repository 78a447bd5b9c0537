// The sequence tasks of spec/tasks.md, "Sequence tasks": seq_image (an image scanned pixel by
// pixel, optionally under one fixed permutation) and the adding problem.
#include "tasks/idx_reader.h"
#include "tasks/random.h"
#include "tasks/task_config.h"

#include "runtime/error.h"

#include <fmt/format.h>

#include <filesystem>
#include <numeric>

namespace statemix::tasks {

namespace {

constexpr int kImageClasses = 10;

// A file field left empty means `<path>/<standard name>`, gzipped if that exists, else plain
// (some MNIST copies ship unpacked).
std::string idx_path(const TaskConfig &c, const std::string &field, const std::string &standard_name) {
    const std::string given = c.string(field);
    if (!given.empty()) return given;
    const std::filesystem::path dir = c.string("path");
    const std::filesystem::path gz = dir / (standard_name + ".gz"), plain = dir / standard_name;
    std::error_code ec;
    if (std::filesystem::exists(gz, ec)) return gz.string();
    if (std::filesystem::exists(plain, ec)) return plain.string();
    config_error(c, "path",
                 fmt::format("no '{}' (nor '{}'): expected a directory of MNIST-format IDX files; Fashion-MNIST "
                             "is Debian's dataset-fashion-mnist package, or set task.{} to the file",
                             gz.string(), plain.string(), field));
}

// One split: the first `n` images (0 = all) as features [n, rows*cols, 1] in [0, 1], pixel
// order[t] at step t; targets [n, 1] = the label.
Dataset image_split(const TaskConfig &c, const IdxArray &images, const std::string &images_path,
                    const std::string &labels_path, const std::string &count_field,
                    const std::vector<int64_t> &order) {
    const IdxArray labels = read_idx(labels_path, 1);
    const int64_t count = images.dims[0], T = images.dims[1] * images.dims[2];
    if (labels.dims[0] != count)
        throw Error(fmt::format("IDX file '{}': {} labels, but images file '{}' holds {} images", labels_path,
                                labels.dims[0], images_path, count));
    if (T != int64_t(order.size()))
        throw Error(fmt::format("IDX file '{}': {}x{} images, expected {} pixels like the train images",
                                images_path, images.dims[1], images.dims[2], order.size()));
    if (count < 1) throw Error(fmt::format("IDX file '{}': holds no images", images_path));
    const int64_t requested = c.integer(count_field, 0, count, "0 = every image in '" + images_path + "'");
    const int64_t n = requested == 0 ? count : requested;

    Dataset d;
    d.n = n;
    d.T = T;
    d.F = 1;
    d.T_out = 1;
    d.features.resize(size_t(n * T));
    d.targets.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t label = labels.data[size_t(i)];
        if (label >= kImageClasses)
            throw Error(fmt::format("IDX file '{}': label {} of image {} is outside 0..{}", labels_path, label, i,
                                    kImageClasses - 1));
        d.targets[size_t(i)] = label;
        const uint8_t *pixels = &images.data[size_t(i * T)];
        float *x = &d.features[size_t(i * T)];
        for (int64_t t = 0; t < T; ++t) x[t] = float(pixels[order[size_t(t)]]) / 255.0f;
    }
    return d;
}

// T = seq_len steps of (value ~ U[0,1), marker); the marker is 1 at one step of each half,
// [0, T/2) and [T/2, T), uniformly; the target is the sum of the two marked values.
Dataset adding_split(int64_t n, int64_t T, uint64_t seed) {
    Dataset d;
    d.n = n;
    d.T = T;
    d.F = 2;
    d.T_out = 1;
    d.features.assign(size_t(n * T * 2), 0.0f);
    d.values.resize(size_t(n));
    Rng rng(seed);
    const int64_t half = T / 2;
    for (int64_t s = 0; s < n; ++s) {
        float *x = &d.features[size_t(s * T * 2)];
        for (int64_t t = 0; t < T; ++t) x[2 * t] = uniform_float(rng);
        const int64_t a = int64_t(uniform_int(rng, uint64_t(half)));
        const int64_t b = half + int64_t(uniform_int(rng, uint64_t(T - half)));
        x[2 * a + 1] = 1.0f;
        x[2 * b + 1] = 1.0f;
        d.values[size_t(s)] = x[2 * a] + x[2 * b];
    }
    return d;
}

}  // namespace

TaskData make_seq_image(const TaskConfig &c, uint64_t seed) {
    const std::string train_images = idx_path(c, "train_images", "train-images-idx3-ubyte");
    const std::string train_labels = idx_path(c, "train_labels", "train-labels-idx1-ubyte");
    const std::string test_images = idx_path(c, "test_images", "t10k-images-idx3-ubyte");
    const std::string test_labels = idx_path(c, "test_labels", "t10k-labels-idx1-ubyte");

    // The train images fix the pixel count (and so the permutation); the test images must match.
    const IdxArray train_pixels = read_idx(train_images, 3);
    const int64_t T = train_pixels.dims[1] * train_pixels.dims[2];
    std::vector<int64_t> order(static_cast<size_t>(T));
    std::iota(order.begin(), order.end(), 0);
    if (c.boolean("permute")) {
        // Fisher-Yates from its own stream, so train and test share one permutation.
        Rng rng(derive_seed(seed, kPermutationStream));
        for (int64_t i = T - 1; i > 0; --i)
            std::swap(order[size_t(i)], order[size_t(uniform_int(rng, uint64_t(i + 1)))]);
    }

    TaskData data;
    data.info.name = c.name;
    data.info.vocab_in = 0;
    data.info.n_classes = kImageClasses;
    data.info.readout = Readout::last_step;
    data.info.loss = LossKind::cross_entropy;
    data.train = image_split(c, train_pixels, train_images, train_labels, "n_train", order);
    data.test = image_split(c, read_idx(test_images, 3), test_images, test_labels, "n_test", order);
    return data;
}

TaskData make_adding(const TaskConfig &c, uint64_t seed) {
    const int64_t T = c.integer("seq_len", 2, kMaxCount, "one marker in each half");
    const int64_t n_train = c.integer("n_train", 1, kMaxCount), n_test = c.integer("n_test", 1, kMaxCount);
    check_split_size(c, "n_train", n_train, 2 * T);
    check_split_size(c, "n_test", n_test, 2 * T);
    TaskData data;
    data.info.name = c.name;
    data.info.vocab_in = 0;
    data.info.n_classes = 0;
    data.info.readout = Readout::last_step;
    data.info.loss = LossKind::mse;
    data.train = adding_split(n_train, T, derive_seed(seed, kTrainStream));
    data.test = adding_split(n_test, T, derive_seed(seed, kTestStream));
    return data;
}

}  // namespace statemix::tasks
