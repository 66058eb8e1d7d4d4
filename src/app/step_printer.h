#pragma once

#include <ostream>

#include "apply/transaction.h"
#include "store/types.h"

namespace obsforge::app {

/// Prints a finished step as one line: `  ✓ reload prometheus (120 ms): ...`. Running steps are
/// not printed (each step is reported twice: when it starts and when it ends).
void PrintStep(const apply::Step& step, std::ostream& out);

/// Prints how an apply ended: outcome, revision, and the upstream's error text if any.
void PrintOutcome(const apply::ApplyResult& result, std::ostream& out);

/// Prints how the apply operation `op` ended, like PrintOutcome(ApplyResult) (from the result it
/// stored; "failed: <error>" when it ended before applying anything).
void PrintOutcome(const store::Operation& op, std::ostream& out);

}  // namespace obsforge::app
