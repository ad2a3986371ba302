// train.cpp -- libgalann from C++ through the C header: RAII handles,
// exceptions for statuses, a lambda as the progress callback.
//
// Built against the installed library:
//   g++ -std=c++17 train.cpp $(pkg-config --cflags --libs galann) -o train
//   ./train [train.csv test.csv]
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <galann.h>

namespace {

void check(int status)
{
    if (status != GALANN_OK)
        throw std::runtime_error(std::string(galann_strerror(status)) + ": " + galann_last_error());
}

struct context_deleter { void operator()(galann_context *c) const { galann_context_free(c); } };
struct dataset_deleter { void operator()(galann_dataset *d) const { galann_dataset_free(d); } };
struct model_deleter { void operator()(galann_model *m) const { galann_model_free(m); } };
using context_ptr = std::unique_ptr<galann_context, context_deleter>;
using dataset_ptr = std::unique_ptr<galann_dataset, dataset_deleter>;
using model_ptr = std::unique_ptr<galann_model, model_deleter>;

dataset_ptr load(const char *path)
{
    galann_dataset *d = nullptr;
    check(galann_dataset_load_csv(path, &d));
    return dataset_ptr(d);
}

dataset_ptr synthesize(size_t n, uint32_t seed)
{
    galann_dataset *d = nullptr;
    check(galann_dataset_synthesize(n, seed, &d));
    return dataset_ptr(d);
}

} // namespace

int main(int argc, char **argv)
try {
    galann_context *raw_ctx = nullptr;
    check(galann_context_new(nullptr, &raw_ctx));
    context_ptr ctx(raw_ctx);
    dataset_ptr train = argc > 2 ? load(argv[1]) : synthesize(900, 1);
    dataset_ptr test = argc > 2 ? load(argv[2]) : synthesize(300, 2);

    const size_t layers[] = { galann_dataset_n_features(train.get()), 8, galann_dataset_n_labels(train.get()) };
    galann_model *raw_model = nullptr;
    check(galann_model_new(layers, 3, &raw_model));
    model_ptr model(raw_model);
    check(galann_model_init_random(model.get(), 917));

    std::vector<double> costs;
    auto record = [](void *user, const galann_fit_progress *p) -> int {
        static_cast<std::vector<double> *>(user)->push_back(p->train_cost);
        return 0;
    };
    galann_fit_options opts;
    galann_fit_options_init(&opts);
    opts.max_iterations = 40;
    opts.validation = test.get();
    opts.progress = record;
    opts.progress_user = &costs;
    galann_fit_report report{};
    report.struct_size = sizeof report;
    check(galann_fit(ctx.get(), model.get(), train.get(), &opts, &report));

    std::vector<int32_t> labels(galann_dataset_n_samples(test.get()));
    check(galann_predict(ctx.get(), model.get(), test.get(), labels.data(), labels.size()));
    size_t correct = 0;
    for (size_t i = 0; i < labels.size(); i++)
        correct += labels[i] == galann_dataset_labels(test.get())[i];
    std::printf("libgalann %s from C++: %zu iterations, J %.4f -> %.4f, test accuracy %.1f%%\n", galann_version(),
                costs.size(), costs.front(), costs.back(), 100.0 * correct / labels.size());
    return costs.size() == 40 && costs.back() < costs.front() ? 0 : 1;
} catch (const std::exception &e) {
    std::fprintf(stderr, "train: %s\n", e.what());
    return 1;
}
