/* Saving a model by path, atomically: the image goes to a temporary file
 * beside the target (same directory, so the same file system), is flushed
 * to the disk, and is renamed over the target. A crash or a full disk
 * leaves either the old file or the new one, never a truncated model. */
#include "io_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp-XXXXXX"

static int fd_put(void *ctx, const unsigned char *p, size_t n)
{
    int fd = *(int *)ctx;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Makes the rename itself durable. Best effort: some file systems cannot
 * fsync a directory, and the model is already complete on disk by then. */
static void sync_dir(char *scratch, const char *path)
{
    char *slash;
    int fd;
    strcpy(scratch, path);
    slash = strrchr(scratch, '/');
    if (!slash)
        strcpy(scratch, ".");
    else if (slash == scratch)
        slash[1] = '\0';
    else
        *slash = '\0';
    fd = open(scratch, O_RDONLY);
    if (fd < 0) return;
    (void)fsync(fd);
    (void)close(fd);
}

mlp_status mlp_save(const mlp_network *net, const char *path)
{
    char *tmp;
    size_t len;
    int fd, err = 0;
    struct stat sb;
    mlp_status st;
    MLP__CHECK_NULL(net);
    MLP__CHECK_NULL(path);
    len = strlen(path);
    if (len == 0) return mlp__fail(MLP_ERR_ARGUMENT, "mlp_save: the path is empty");
    tmp = mlp__malloc(len + sizeof TMP_SUFFIX);
    if (!tmp) return mlp__fail(MLP_ERR_NOMEM, "out of memory for the temporary file name");
    memcpy(tmp, path, len);
    memcpy(tmp + len, TMP_SUFFIX, sizeof TMP_SUFFIX);

    fd = mkstemp(tmp);
    if (fd < 0) {
        st = mlp__fail(MLP_ERR_IO, "cannot create a temporary file beside %s: %s", path,
                       strerror(errno));
        mlp__free(tmp);
        return st;
    }
    /* mkstemp makes 0600; keep the mode of the file replaced, else 0644.
     * Failing to change it (e.g. on FAT) is not worth losing the save. */
    (void)fchmod(fd, (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) ? (sb.st_mode & 07777) : 0644);

    st = mlp__model_write(net, fd_put, &fd);
    if (st == MLP_ERR_IO) err = errno;
    if (st == MLP_OK && fsync(fd) != 0) {
        err = errno;
        st = MLP_ERR_IO;
    }
    if (close(fd) != 0 && st == MLP_OK) {
        err = errno;
        st = MLP_ERR_IO;
    }
    if (st == MLP_OK && rename(tmp, path) != 0) {
        err = errno;
        st = MLP_ERR_IO;
    }
    if (st != MLP_OK) {
        (void)unlink(tmp);
        if (st == MLP_ERR_IO)
            st = mlp__fail(MLP_ERR_IO, "saving %s failed: %s", path,
                           err ? strerror(err) : "write error");
    } else {
        sync_dir(tmp, path);
        mlp__clear_error();
    }
    mlp__free(tmp);
    return st;
}
