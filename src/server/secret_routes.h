#pragma once

#include "control/stack_secrets.h"
#include "server/router.h"

namespace obsforge::server {

/// Registers the routes of a stack's own secrets: PUT and DELETE
/// /api/v1/stacks/{name}/secrets/{key} (editor; the body is the value, never returned) and
/// GET /api/v1/stacks/{name}/secrets (viewer; names and update times only). `secrets` must
/// outlive the router.
void RegisterSecretRoutes(Router& router, control::StackSecrets& secrets);

}  // namespace obsforge::server
