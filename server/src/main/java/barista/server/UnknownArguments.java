package barista.server;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Command-line errors as one line: an unknown option or command gets the nearest known name ("did you mean
 * --max-num-seqs?") and a pointer to --help.
 */
final class UnknownArguments {
  private UnknownArguments() {}

  static String describe(CommandLine.ParameterException e) {
    CommandLine commandLine = e.getCommandLine();
    String help = "see '" + commandLine.getCommandSpec().qualifiedName() + " --help'";
    if (!(e instanceof CommandLine.UnmatchedArgumentException unmatched) || unmatched.getUnmatched().isEmpty()) {
      return Main.firstLine(e.getMessage());
    }
    String arg = unmatched.getUnmatched().get(0);
    CommandSpec spec = commandLine.getCommandSpec();
    if (arg.startsWith("-")) {
      String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      List<String> known = new ArrayList<>();
      for (OptionSpec option : spec.options()) known.addAll(List.of(option.names()));
      String nearest = nearest(name, known);
      return "unknown option '" + name + "'" + (nearest == null ? "" : " (did you mean " + nearest + "?)") + "; "
          + help;
    }
    if (!spec.subcommands().isEmpty()) {
      String nearest = nearest(arg, new ArrayList<>(spec.subcommands().keySet()));
      return "unknown command '" + arg + "'" + (nearest == null ? "" : " (did you mean " + nearest + "?)") + "; "
          + help;
    }
    return "unexpected argument '" + arg + "'; " + help;
  }

  /** The known name closest to {@code name} by edit distance, if close enough to be a typo; else null. */
  static String nearest(String name, List<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int distance = editDistance(name, candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    int allowed = Math.max(2, name.length() / 4); // a typo or two, not a different word
    return bestDistance <= allowed ? best : null;
  }

  /** Levenshtein distance: insertions, deletions and substitutions. */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) previous[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
