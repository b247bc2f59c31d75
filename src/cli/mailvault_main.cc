// mailvault: the command-line tool over the store (issue 2, docs/cli.md).
// Parses the command line with CLI11, runs the selected command and turns
// every failure into one "mailvault: ..." line on stderr: exit 1 when an
// operation failed, 2 for bad usage. No exception leaves main.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/cli_common.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace mailvault::cli;
  CLI::App app{"mailvault: the encrypted Backup of a mail gateway"};
  app.require_subcommand(1);
  Action action;
  AddWriteCommands(app, &action);
  AddReadCommands(app, &action);
  AddSaveCommand(app, &action);
  AddAdminCommands(app, &action);
  AddConfigCommand(app, &action);
  AddDeliverCommands(app, &action);
  AddAuditCommand(app, &action);
  AddUserCommands(app, &action);
  AddLdapCommands(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      ReportError("unknown command \"" + std::string(argv[1]) + "\" (see --help)");
      return kExitUsage;
    }
    ReportError(std::string(e.what()) + " (see --help)");
    return kExitUsage;
  }
  if (!action) return ReportError("no command given (see --help)");
  // As root on the service's data: become its owner before anything is
  // opened (cli_common.h).
  if (mailvault::Status s = BecomeDataDirOwner(SelectedDataDir()); !s.ok()) return ReportError(s);
  try {
    return action();
  } catch (const std::exception& e) {
    return ReportError(std::string("internal error: ") + e.what());
  }
}
