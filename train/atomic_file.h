#pragma once
// Files of a run directory are replaced atomically: a reader (or a resumed run after a crash or a
// full disk) sees either the old contents or the new, never a mix or a truncated file.
#include <cstddef>
#include <string>
#include <vector>

namespace statemix::train {

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

}  // namespace statemix::train
