#include <stdint.h>

int64_t osrsim_time_calls(uint64_t fn, uint64_t arg, int64_t reps, uint64_t *ret, uint64_t *tsc);
