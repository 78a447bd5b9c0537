#pragma once
// Files the tools write (checkpoints, run files, .npy outputs, tuning results) are replaced atomically: a reader (or a resumed run after a crash or a
// full disk) sees either the old contents or the new, never a mix or a truncated file.
#include <unistd.h>

#include <cstddef>
#include <string>
#include <vector>

namespace statemix {

// Owns a file descriptor so every early return or throw closes it.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return fd_; }
    // Closes now and reports the result: close() can surface a delayed write error (NFS, FUSE).
    int close_checked() {
        int r = ::close(fd_);
        fd_ = -1;
        return r;
    }

private:
    int fd_;
};


// One piece of a file being written; the pieces are written back to back, so a large tensor is
// written from its own memory instead of being copied into one buffer first.
struct ByteSpan {
    const void *data;
    size_t size;
};

// Writes PATH.tmp-<pid> in the same directory (so rename() never crosses file systems), fsyncs it,
// renames it over PATH and fsyncs the directory. On any failure (a short write, ENOSPC, EFBIG, ...)
// the temporary file is removed, PATH is left as it was, and Error naming PATH and the errno text
// is thrown. (One exception: if only the final directory fsync fails, PATH already holds the new
// contents but the rename may not survive a crash; that is reported as Error too.)
void write_file_atomic(const std::string &path, const std::vector<ByteSpan> &pieces);
void write_file_atomic(const std::string &path, const std::string &contents);

// The whole file. Error naming the file if it is missing or unreadable.
std::string read_file(const std::string &path);

// fsync of a directory, so that entries created, renamed or removed in it survive a crash.
// Error naming the directory on failure, except where the file system refuses directory fsync
// (EINVAL), which is ignored: there is nothing more that could be done.
void fsync_dir(const std::string &dir);

// The directory holding PATH ("." for a bare file name).
std::string parent_dir(const std::string &path);

}  // namespace statemix
