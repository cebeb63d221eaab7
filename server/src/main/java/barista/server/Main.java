package barista.server;

import barista.config.ServeOptions;
import barista.server.bench.BenchCommand;
import barista.server.cli.GenerateCommand;
import barista.server.cli.MakeModelCommand;
import barista.server.cli.QuantizeCommand;
import barista.server.model.Version;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The {@code barista} command. A new subcommand is one more class in {@code subcommands}. Errors are one line on
 * stderr and exit code 2 for bad input (1 for other failures); the stack trace only with --log-level debug.
 */
@Command(name = "barista", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
    description = "OpenAI-compatible LLM inference server for the JVM.",
    subcommands = {ServeCommand.class, GenerateCommand.class, MakeModelCommand.class, QuantizeCommand.class, BenchCommand.class})
public final class Main {
  private static final String NETTY_REFLECTION = "io.netty.tryReflectionSetAccessible";

  public static void main(String[] args) {
    // With the jar manifest's Add-Opens of java.nio, Netty then allocates direct buffers without zeroing them: a
    // large request body's buffer is written into as its bytes come, not zeroed and faulted in at once by the event
    // loop that reads its first megabyte while that loop's other connections wait (docs/reliability.md).
    if (System.getProperty(NETTY_REFLECTION) == null) System.setProperty(NETTY_REFLECTION, "true");
    System.exit(commandLine().execute(vllmSpelling(args)));
  }

  /** The command line with barista's error handling, for main and for tests. */
  public static CommandLine commandLine() {
    return configure(new CommandLine(new Main()));
  }

  /** vLLM's parser takes --max_num_seqs for --max-num-seqs; so does barista's (option names only, not values). */
  static String[] vllmSpelling(String[] args) {
    String[] out = args.clone();
    for (int i = 0; i < out.length; i++) {
      String arg = out[i];
      if (!arg.startsWith("--") || !arg.contains("_")) continue;
      int equals = arg.indexOf('=');
      String name = equals < 0 ? arg : arg.substring(0, equals);
      out[i] = name.replace('_', '-') + (equals < 0 ? "" : arg.substring(equals));
    }
    return out;
  }

  static CommandLine configure(CommandLine commandLine) {
    CommandLine serve = commandLine.getSubcommands().get("serve");
    ServeOptions.addVllmFlags(serve.getCommandSpec(), ((ServeCommand) serve.getCommand()).options);
    return commandLine
        .setParameterExceptionHandler((e, args) -> {
          e.getCommandLine().getErr().println("barista: " + UnknownArguments.describe(e));
          return CommandLine.ExitCode.USAGE;
        })
        .setExecutionExceptionHandler((e, command, parseResult) -> {
          PrintWriter err = command.getErr();
          err.println("barista: " + firstLine(e.getMessage() != null ? e.getMessage() : e.toString()));
          if (debug(parseResult)) e.printStackTrace(err);
          return e instanceof IllegalArgumentException ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
        });
  }

  static String firstLine(String message) {
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  private static boolean debug(CommandLine.ParseResult result) {
    for (CommandLine.ParseResult r = result; r != null; r = r.subcommand()) {
      Object level = r.matchedOptionValue("--log-level", null);
      if (level != null && (level.toString().equals("debug") || level.toString().equals("trace"))) return true;
    }
    return false;
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"barista " + Version.VERSION};
    }
  }
}
