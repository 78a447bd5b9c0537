// The synthetic token tasks of spec/tasks.md, "Synthetic token tasks": selective_copy, recall,
// compression and group. Each split is drawn from its own engine (random.h), one sequence after
// another.
#include "tasks/random.h"
#include "tasks/task_config.h"

#include <algorithm>
#include <numeric>

namespace statemix::tasks {

namespace {

Dataset token_dataset(int64_t n, int64_t T, int64_t T_out) {
    Dataset d;
    d.n = n;
    d.T = T;
    d.F = 0;
    d.T_out = T_out;
    d.tokens.assign(size_t(n * T), 0);
    d.targets.assign(size_t(n * T_out), -1);
    return d;
}

// V = vocab, L = seq_len, K = n_tokens. Content tokens 0..V-3, blank V-2, copy marker V-1.
// Positions 0..L-K-2 hold the K content tokens in order with L-2K-1 blanks among them, position
// L-K-1 the marker, positions L-K..L-1 blanks. Targets are -1 except at L-K+j, which holds
// content token j.
Dataset selective_copy_split(int64_t n, int64_t V, int64_t L, int64_t K, uint64_t seed) {
    Dataset d = token_dataset(n, L, L);
    Rng rng(seed);
    const int32_t blank = int32_t(V - 2), marker = int32_t(V - 1);
    const int64_t slots = L - K - 1;  // positions before the marker
    for (int64_t s = 0; s < n; ++s) {
        int32_t *x = &d.tokens[size_t(s * L)];
        int32_t *y = &d.targets[size_t(s * L)];
        // Selection sampling (Knuth, TAOCP 3.4.2, algorithm S): slot i takes the next content
        // token with probability (tokens left)/(slots left), a uniform K-subset in one ordered pass.
        int64_t placed = 0;
        for (int64_t i = 0; i < slots; ++i) {
            if (int64_t(uniform_int(rng, uint64_t(slots - i))) < K - placed) {
                const int32_t token = int32_t(uniform_int(rng, uint64_t(V - 2)));
                x[i] = token;
                y[L - K + placed] = token;
                ++placed;
            } else {
                x[i] = blank;
            }
        }
        x[slots] = marker;
        for (int64_t i = L - K; i < L; ++i) x[i] = blank;
    }
    return d;
}

// Multi-query associative recall, V = vocab, L = seq_len. A sequence is L/2 (key, value) pairs.
// Keys 0..V/2-1 are drawn uniformly with replacement; each is followed by its value under a
// per-sequence map key -> V/2..V-1 whose entries are drawn independently (two keys may share a
// value). The last pair re-probes a key drawn uniformly from the distinct keys already shown.
// The model sees the first L-1 tokens (T = L-1).
//   train targets: the next token everywhere, targets[t] = seq[t+1] (the last is the held-out value).
//   test targets:  at a key position whose key appeared in an earlier pair, the value after it
//                  (seq[t+1]); -1 elsewhere.
Dataset recall_split(int64_t n, int64_t V, int64_t L, bool test, uint64_t seed) {
    const int64_t T = L - 1, n_keys = V / 2, n_pairs = L / 2;
    Dataset d = token_dataset(n, T, T);
    Rng rng(seed);
    std::vector<int32_t> seq(static_cast<size_t>(L)), value_of(static_cast<size_t>(n_keys)), shown;
    std::vector<char> seen(static_cast<size_t>(n_keys));
    for (int64_t s = 0; s < n; ++s) {
        for (auto &v : value_of) v = int32_t(n_keys + int64_t(uniform_int(rng, uint64_t(V - n_keys))));
        std::fill(seen.begin(), seen.end(), 0);
        for (int64_t p = 0; p + 1 < n_pairs; ++p) {
            const int32_t key = int32_t(uniform_int(rng, uint64_t(n_keys)));
            seq[size_t(2 * p)] = key;
            seq[size_t(2 * p + 1)] = value_of[size_t(key)];
            seen[size_t(key)] = 1;
        }
        shown.clear();
        for (int32_t k = 0; k < n_keys; ++k)
            if (seen[size_t(k)]) shown.push_back(k);
        const int32_t probe = shown[size_t(uniform_int(rng, shown.size()))];
        seq[size_t(L - 2)] = probe;
        seq[size_t(L - 1)] = value_of[size_t(probe)];

        int32_t *x = &d.tokens[size_t(s * T)];
        int32_t *y = &d.targets[size_t(s * T)];
        std::copy(seq.begin(), seq.begin() + T, x);
        if (!test) {
            std::copy(seq.begin() + 1, seq.end(), y);
            continue;
        }
        std::fill(seen.begin(), seen.end(), 0);
        for (int64_t t = 0; t < T; t += 2) {
            const int32_t key = seq[size_t(t)];
            if (seen[size_t(key)]) y[t] = seq[size_t(t + 1)];
            seen[size_t(key)] = 1;
        }
    }
    return d;
}

// V = vocab, L = seq_len: L-1 tokens drawn uniformly from 0..V-2, then the marker V-1; the
// targets are the whole input (the auto-encoder reconstructs it from its last position).
Dataset compression_split(int64_t n, int64_t V, int64_t L, uint64_t seed) {
    Dataset d = token_dataset(n, L, L);
    Rng rng(seed);
    for (int64_t s = 0; s < n; ++s) {
        int32_t *x = &d.tokens[size_t(s * L)];
        for (int64_t t = 0; t + 1 < L; ++t) x[t] = int32_t(uniform_int(rng, uint64_t(V - 1)));
        x[L - 1] = int32_t(V - 1);
    }
    d.targets = d.tokens;
    return d;
}

// The symmetric group S_n as tokens. Element i is the i-th permutation of 0..n-1 in
// lexicographic order of its image array (p(0), ..., p(n-1)), the order std::next_permutation
// walks from the identity, so element 0 is the identity. Composition is (a∘b)(i) = a(b(i)).
struct SymmetricGroup {
    int64_t order = 0;                // n!
    std::vector<int32_t> compose;     // [a * order + b] = index of a∘b
};

SymmetricGroup symmetric_group(int n) {
    std::vector<std::vector<int>> perms;
    std::vector<int> p(static_cast<size_t>(n));
    std::iota(p.begin(), p.end(), 0);
    do perms.push_back(p);
    while (std::next_permutation(p.begin(), p.end()));

    // Index of a permutation by its image array read as a base-n number (at most 5^5 entries).
    auto code = [n](const std::vector<int> &q) {
        int64_t c = 0;
        for (int v : q) c = c * n + v;
        return c;
    };
    int64_t n_codes = 1;
    for (int i = 0; i < n; ++i) n_codes *= n;
    std::vector<int32_t> index_of(size_t(n_codes), -1);
    for (size_t i = 0; i < perms.size(); ++i) index_of[size_t(code(perms[i]))] = int32_t(i);

    SymmetricGroup g;
    g.order = int64_t(perms.size());
    g.compose.resize(size_t(g.order * g.order));
    std::vector<int> ab(static_cast<size_t>(n));
    for (int64_t a = 0; a < g.order; ++a)
        for (int64_t b = 0; b < g.order; ++b) {
            for (int i = 0; i < n; ++i) ab[size_t(i)] = perms[size_t(a)][size_t(perms[size_t(b)][size_t(i)])];
            g.compose[size_t(a * g.order + b)] = index_of[size_t(code(ab))];
        }
    return g;
}

// Tokens uniform over S_n; targets[t] = x_t ∘ x_{t-1} ∘ ... ∘ x_0 (prefix_t = x_t ∘ prefix_{t-1},
// so x_0 acts first), the state a tracker of the running product must hold.
Dataset group_split(int64_t n, const SymmetricGroup &g, int64_t L, uint64_t seed) {
    Dataset d = token_dataset(n, L, L);
    Rng rng(seed);
    for (int64_t s = 0; s < n; ++s) {
        int32_t *x = &d.tokens[size_t(s * L)];
        int32_t *y = &d.targets[size_t(s * L)];
        int32_t prefix = 0;  // identity
        for (int64_t t = 0; t < L; ++t) {
            x[t] = int32_t(uniform_int(rng, uint64_t(g.order)));
            prefix = g.compose[size_t(int64_t(x[t]) * g.order + prefix)];
            y[t] = prefix;
        }
    }
    return d;
}

struct SplitSizes {
    int64_t n_train, n_test;
};

SplitSizes split_sizes(const TaskConfig &c, int64_t values_per_sequence) {
    SplitSizes s{c.integer("n_train", 1, kMaxCount), c.integer("n_test", 1, kMaxCount)};
    check_split_size(c, "n_train", s.n_train, values_per_sequence);
    check_split_size(c, "n_test", s.n_test, values_per_sequence);
    return s;
}

TaskInfo token_info(const std::string &name, int64_t vocab, Readout readout) {
    TaskInfo info;
    info.name = name;
    info.vocab_in = int(vocab);
    info.n_classes = int(vocab);
    info.readout = readout;
    info.loss = LossKind::cross_entropy;
    return info;
}

}  // namespace

TaskData make_selective_copy(const TaskConfig &c, uint64_t seed) {
    const int64_t V = c.integer("vocab", 3, kMaxVocab, "content tokens 0..vocab-3, blank, marker");
    const int64_t K = c.integer("n_tokens", 1, kMaxCount);
    const int64_t L = c.integer("seq_len", 2 * K + 1, kMaxCount, "at least 2*n_tokens+1");
    const SplitSizes sizes = split_sizes(c, L);
    TaskData data;
    data.info = token_info(c.name, V, Readout::every_step);
    data.train = selective_copy_split(sizes.n_train, V, L, K, derive_seed(seed, kTrainStream));
    data.test = selective_copy_split(sizes.n_test, V, L, K, derive_seed(seed, kTestStream));
    return data;
}

TaskData make_recall(const TaskConfig &c, uint64_t seed) {
    const int64_t V = c.integer("vocab", 4, kMaxVocab, "keys 0..vocab/2-1, values vocab/2..vocab-1");
    const int64_t L = c.integer("seq_len", 4, kMaxCount, "at least two (key, value) pairs");
    if (V % 2 != 0) config_error(c, "vocab", "expected an even number (half keys, half values), got " + std::to_string(V));
    if (L % 2 != 0) config_error(c, "seq_len", "expected an even number ((key, value) pairs), got " + std::to_string(L));
    const SplitSizes sizes = split_sizes(c, L - 1);
    TaskData data;
    data.info = token_info(c.name, V, Readout::every_step);
    data.train = recall_split(sizes.n_train, V, L, false, derive_seed(seed, kTrainStream));
    data.test = recall_split(sizes.n_test, V, L, true, derive_seed(seed, kTestStream));
    return data;
}

TaskData make_compression(const TaskConfig &c, uint64_t seed) {
    const int64_t V = c.integer("vocab", 2, kMaxVocab, "tokens 0..vocab-2, marker vocab-1");
    const int64_t L = c.integer("seq_len", 2, kMaxCount);
    const SplitSizes sizes = split_sizes(c, L);
    TaskData data;
    data.info = token_info(c.name, V, Readout::autoencoder);
    data.train = compression_split(sizes.n_train, V, L, derive_seed(seed, kTrainStream));
    data.test = compression_split(sizes.n_test, V, L, derive_seed(seed, kTestStream));
    return data;
}

TaskData make_group(const TaskConfig &c, uint64_t seed) {
    const int64_t group_n = c.integer("group_n", 3, 5, "S_3, S_4 or S_5");
    const int64_t L = c.integer("seq_len", 1, kMaxCount);
    const SplitSizes sizes = split_sizes(c, L);
    const SymmetricGroup g = symmetric_group(int(group_n));
    TaskData data;
    data.info = token_info(c.name, g.order, Readout::every_step);
    data.train = group_split(sizes.n_train, g, L, derive_seed(seed, kTrainStream));
    data.test = group_split(sizes.n_test, g, L, derive_seed(seed, kTestStream));
    return data;
}

}  // namespace statemix::tasks
