// Atomic replacement of a file: write a temporary file next to it, fsync, rename over it, fsync
// the directory. See file_io.h for the contract.
#include "file_io.h"

#include "error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace statemix {

namespace {

// Linux transfers at most ~2 GiB per read()/write(); stay well under that per call.
constexpr size_t kMaxIoChunk = size_t(1) << 30;

std::string errno_text(int e) { return std::strerror(e); }


}  // namespace

std::string parent_dir(const std::string &path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

void fsync_dir(const std::string &dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) throw Error("cannot open directory '" + dir + "' to fsync it: " + errno_text(errno));
    if (::fsync(fd.get()) != 0 && errno != EINVAL)
        throw Error("cannot fsync directory '" + dir + "': " + errno_text(errno));
}

void write_file_atomic(const std::string &path, const std::vector<ByteSpan> &pieces) {
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    auto fail = [&](const std::string &what, int e) {
        ::unlink(tmp.c_str());
        throw Error("cannot write '" + path + "': " + what + ": " + errno_text(e));
    };

    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        // Nothing was created, so there is nothing to unlink; report without touching tmp.
        int e = errno;
        throw Error("cannot write '" + path + "': cannot create temporary file '" + tmp + "': " + errno_text(e));
    }
    size_t total = 0;
    for (const ByteSpan &piece : pieces) {
        const char *p = static_cast<const char *>(piece.data);
        size_t done = 0;
        while (done < piece.size) {
            ssize_t w = ::write(fd.get(), p + done, std::min(piece.size - done, kMaxIoChunk));
            if (w < 0 && errno == EINTR) continue;
            // A full disk shows up as a short write followed by ENOSPC (or EFBIG past a file-size
            // limit); 0 is not expected from a regular file but would otherwise loop forever.
            if (w <= 0)
                fail("write failed after " + std::to_string(total + done) + " bytes of temporary file '" + tmp + "'",
                     w < 0 ? errno : EIO);
            done += static_cast<size_t>(w);
        }
        total += done;
    }
    // fsync before rename, so that after a crash PATH is never the new name of a partial file.
    if (::fsync(fd.get()) != 0) fail("cannot fsync temporary file '" + tmp + "'", errno);
    if (fd.close_checked() != 0) fail("cannot close temporary file '" + tmp + "'", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename temporary file '" + tmp + "' over it", errno);
    // The new file is in place now; the directory fsync only makes the rename itself durable.
    fsync_dir(parent_dir(path));
}

void write_file_atomic(const std::string &path, const std::string &contents) {
    write_file_atomic(path, std::vector<ByteSpan>{{contents.data(), contents.size()}});
}

std::string read_file(const std::string &path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw Error("cannot open '" + path + "': " + errno_text(errno));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) throw Error("cannot stat '" + path + "': " + errno_text(errno));
    if (S_ISDIR(st.st_mode)) throw Error("cannot read '" + path + "': it is a directory, expected a file");
    std::string out;
    out.reserve(static_cast<size_t>(std::max<off_t>(st.st_size, 0)));
    char buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd.get(), buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw Error("cannot read '" + path + "': " + errno_text(errno));
        if (r == 0) break;
        out.append(buf, static_cast<size_t>(r));
    }
    return out;
}

}  // namespace statemix
