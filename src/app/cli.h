#pragma once

namespace obsforge::app {

/// Parses the command line and runs the chosen command. Returns the process exit code:
/// 0 ok, 1 failure (invalid spec, template error, failed apply...), 2 usage error.
int Main(int argc, char** argv);

}  // namespace obsforge::app
