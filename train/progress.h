#pragma once
// The one progress line of a training run:
//   step  120/1000 [##..................] loss 1.234 acc 56.7% lr 4.8e-04 21.3K tok/s 00:42 left
// On a terminal it rewrites itself in place ('\r'); into a file or a pipe it prints a plain line
// at most every ~10 % of the run, so logs stay small. Lines printed with println (eval results)
// stay on screen above the bar.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>

namespace statemix::train {

// Seconds per step from the most recent intervals between updates, not the whole-run mean: the
// first steps (allocation, JIT, cache warm-up) and a changed speed mid-run would otherwise skew
// the estimate for a long time.
class StepRate {
public:
    explicit StepRate(size_t window = 32) : window_(window) {}
    void add(int64_t step, double seconds);  // seconds: any monotonic clock
    void skip_next() { skip_next_ = true; }  // the next interval holds a pause (eval); leave it out
    double seconds_per_step() const;         // NaN until one interval is known

private:
    struct Interval {
        int64_t steps;
        double seconds;
    };
    size_t window_;
    std::deque<Interval> intervals_;
    bool have_last_ = false, skip_next_ = false;
    int64_t last_step_ = 0;
    double last_seconds_ = 0;
};

// "00:42", "1:02:03"; "--:--" for NaN or a negative time.
std::string format_duration(double seconds);

// The progress line without '\r' or '\n'. acc is a fraction (printed in percent); a NaN acc, lr or
// tokens_per_s is left out. `time_text` ends the line ("00:42 left").
std::string progress_line(int64_t step, int64_t total_steps, double loss, double acc, double lr, double tokens_per_s,
                          const std::string &time_text);

class ProgressBar {
public:
    // automatic: a terminal when isatty(out).
    enum class Mode { automatic, terminal, plain };

    explicit ProgressBar(int64_t total_steps, std::FILE *out = stderr, Mode mode = Mode::automatic);
    // Calls finish(), so that an exception's message does not start in the middle of the bar.
    ~ProgressBar();
    ProgressBar(const ProgressBar &) = delete;
    ProgressBar &operator=(const ProgressBar &) = delete;

    // acc: NaN when the task has none. Redraws at most 10 times a second on a terminal.
    void update(int64_t step, double loss, double acc, double lr, double tokens_per_s);
    // A line that stays (eval results); the bar is redrawn below it. The time this takes is not
    // counted as step time.
    void println(const std::string &line);
    // Ends the bar with the total time; idempotent.
    void finish();

private:
    void draw(const std::string &line);
    double now() const;

    int64_t total_;
    std::FILE *out_;
    bool terminal_;
    std::chrono::steady_clock::time_point start_;
    StepRate rate_;
    // The last update, redrawn after println and by finish.
    int64_t step_ = -1;
    double loss_ = 0, acc_ = 0, lr_ = 0, tokens_per_s_ = 0;
    std::string shown_;         // the line on screen (terminal) or last printed (plain)
    double last_draw_ = -1e30;  // seconds, for the terminal's redraw limit
    int64_t next_plain_ = 0;    // plain mode: the next step worth a line
    bool finished_ = false;
};

}  // namespace statemix::train
