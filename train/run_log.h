#pragma once
// The metrics of a run (RUN_DIR/metrics.jsonl, one JSON object per line) and the plot made from
// them (an SVG file any browser opens). Records, as the trainer writes them:
//   train: {"step":..,"loss":..,"acc":..,"lr":..,"tokens_per_s":..}   ("acc" a fraction in [0, 1])
//   eval:  {"step":..,"test_loss":..,"test_acc":..,"test_macro_acc":..}
// A non-finite number is written as null by JSON and is not drawn.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace statemix::train {

// Appends one line per record and flushes it, so a crash loses at most the record being written.
// append=false starts the file afresh. append=true keeps what is there, first cutting off a last
// line left without its '\n' by a crash (it would otherwise be glued to the next record).
// On resume, call truncate_metrics_after before opening the log: it replaces the file, which an
// already open log would not see. Error naming the file on any failure.
class MetricsLog {
public:
    MetricsLog(const std::string &path, bool append);
    ~MetricsLog();
    MetricsLog(const MetricsLog &) = delete;
    MetricsLog &operator=(const MetricsLog &) = delete;

    void write(const nlohmann::json &record);  // record must be a JSON object
    const std::string &path() const { return path_; }

private:
    std::string path_;
    std::FILE *file_ = nullptr;
};

// Every record in file order. A last line without its '\n' (a crash while writing) is skipped;
// any other line that is not a JSON object is an Error naming the file and the line number, as is
// a missing file.
std::vector<nlohmann::json> read_metrics(const std::string &path);

// Keeps the lines whose "step" is <= `step` (and lines without a "step"), byte for byte, and
// replaces the file atomically. A missing file is left missing (nothing to truncate).
void truncate_metrics_after(const std::string &path, int64_t step);

enum class LossScale { automatic, linear, log };

// Two panels stacked, x = step: (1) the training loss, raw (light) and smoothed, with "test_loss"
// points; (2) accuracy in percent: "acc" raw and smoothed, "test_acc" and "test_macro_acc" points.
// Panel 2 is left out when no record has an accuracy (regression tasks). LossScale::automatic
// uses a log loss axis when the positive losses span more than 1.5 decades. Written atomically;
// Error naming the file on failure.
void write_curves_svg(const std::string &path, const std::vector<nlohmann::json> &records, const std::string &title,
                      LossScale loss_scale = LossScale::automatic);

}  // namespace statemix::train
