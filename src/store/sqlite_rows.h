#pragma once

// Internal to src/store: current row of a RecordSet -> store struct. Each throws
// Poco::Data::DataException when a stored enum name is unknown (a corrupt or newer database),
// which SqliteDb turns into kInternal.

#include <Poco/Data/RecordSet.h>

#include "store/types.h"

namespace obsforge::store {

Stack StackFromRow(Poco::Data::RecordSet& rs);
SpecRevision RevisionFromRow(Poco::Data::RecordSet& rs);
EnvironmentState EnvironmentFromRow(Poco::Data::RecordSet& rs);
Operation OperationFromRow(Poco::Data::RecordSet& rs);
OperationStep StepFromRow(Poco::Data::RecordSet& rs);
HealthEvent HealthEventFromRow(Poco::Data::RecordSet& rs);
ProvisionedObject ProvisionedObjectFromRow(Poco::Data::RecordSet& rs);
OutboxMessage OutboxFromRow(Poco::Data::RecordSet& rs);
GitState GitStateFromRow(Poco::Data::RecordSet& rs);

}  // namespace obsforge::store
