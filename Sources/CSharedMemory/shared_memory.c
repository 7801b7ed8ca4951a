// The functions are static inline in include/shared_memory.h.
#include "shared_memory.h"
