/* Host-internal access to a model's IR (for the CLI's inspect and tools). */
#ifndef ER_API_INTERNAL_H
#define ER_API_INTERNAL_H
#include "edgerun.h"
#include "import/model.h"

#include "runtime/exec.h"

const er_imported *er_model_ir(const er_model *m);
er_exec *er_session_exec(er_session *s);
#endif
