// Fixed storage of the kernel's per-environment private state (registers,
// FPU/SSE area, page-table roots). Zeroed with .bss at boot.
#include "arch.h"

struct env_private exo_env_private[EXO_ENVIRONMENT_SLOTS];
