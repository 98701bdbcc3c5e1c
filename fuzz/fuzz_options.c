/* AddressSanitizer settings for the libFuzzer targets (linked into them
 * only; ASAN_OPTIONS in the environment still overrides them). Every
 * execution allocates and frees networks, workspaces and read buffers, and
 * with the default 256 MB quarantine each allocation landed on memory that
 * had not been touched for a long time: page faults (costly in a virtual
 * machine) and cache misses made up most of an execution's time. A 16 MB
 * quarantine still holds what one input frees (typically well under a
 * megabyte: at most 48 calls on networks of width 16), so a use after free
 * inside an input is still caught; returning freed pages to the kernel and
 * faulting them in again is switched off for the same reason. */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16:allocator_release_to_os_interval_ms=-1";
}
