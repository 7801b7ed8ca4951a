#ifndef EXO_CZ3_SHIM_H
#define EXO_CZ3_SHIM_H
#include <z3.h>
#endif
