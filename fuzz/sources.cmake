# The sources of the API fuzzer, relative to fuzz/: one list for the
# libFuzzer target (fuzz/CMakeLists.txt) and its replay test
# (tests/CMakeLists.txt).
set(MLP_FUZZ_API_SOURCES fuzz_api.c api_program.c api_state.c api_check.c api_ops_net.c
    api_ops_set.c api_ops_get.c api_ops_pass.c api_ops_loss.c api_ops_train.c api_ops_step.c
    api_ops_io.c api_ops_file.c api_ops_data.c data_files.c)
