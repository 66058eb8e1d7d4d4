#pragma once

#include "control/gitops_service.h"
#include "server/router.h"

namespace obsforge::server {

/// Registers POST /api/v1/gitops/webhook (open route: the signature is its authentication)
/// and GET /api/v1/gitops (viewer). `gitops` must outlive the router.
void RegisterGitOpsRoutes(Router& router, control::GitOpsService& gitops);

}  // namespace obsforge::server
