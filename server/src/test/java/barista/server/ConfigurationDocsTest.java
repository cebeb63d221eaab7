package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/configuration.md and README.md against the serve command's options, both ways: the help block in
 * configuration.md is exactly what {@code barista serve --help} prints; every flag is described in configuration.md's
 * "Flags" section and listed in README's flag table; and every flag either of them names exists.
 *
 * <p>After adding or changing a flag, regenerate the help block with
 * {@code mvn -B -o -q -pl server -am test -Dtest=ConfigurationDocsTest -Dsurefire.failIfNoSpecifiedTests=false
 * -DskipFuzz -Dbarista.regenerateDocs=true} (docs/testing.md), then describe the flag in the tables.
 */
class ConfigurationDocsTest {
  static final String REGENERATE = "mvn -B -o -q -pl server -am test -Dtest=ConfigurationDocsTest "
      + "-Dsurefire.failIfNoSpecifiedTests=false -DskipFuzz -Dbarista.regenerateDocs=true";
  private static final String HELP_HEADING = "## `barista serve --help`";
  private static final String FENCE_OPEN = "```text\n";
  private static final String FENCE_CLOSE = "```\n";
  private static final Pattern FLAG = Pattern.compile("(?<![\\w-])--(\\[no-\\])?([a-z][a-z0-9-]*)");

  private static CommandLine serve() {
    return Main.commandLine().getSubcommands().get("serve");
  }

  /** What {@code barista serve --help} prints, without colours, lines stripped of trailing blanks. */
  static String helpText() {
    String usage = serve().getUsageMessage(CommandLine.Help.Ansi.OFF);
    return usage.lines().map(String::stripTrailing).collect(Collectors.joining("\n", "", "\n"));
  }

  static Path repoFile(String name) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path file = dir.resolve(name);
      if (Files.isRegularFile(file) && Files.isRegularFile(dir.resolve("pom.xml"))) return file;
    }
    throw new AssertionError(name + " not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void helpBlockIsWhatServeHelpPrints() throws IOException {
    Path doc = repoFile("docs/configuration.md");
    String text = Files.readString(doc, StandardCharsets.UTF_8);
    int heading = text.indexOf(HELP_HEADING);
    assertTrue(heading >= 0, "docs/configuration.md has no " + HELP_HEADING + " section");
    int open = text.indexOf(FENCE_OPEN, heading);
    assertTrue(open >= 0, "no ```text block after " + HELP_HEADING);
    int start = open + FENCE_OPEN.length();
    int end = text.indexOf(FENCE_CLOSE, start);
    assertTrue(end >= 0, "the help block is not closed");
    String generated = helpText();
    if (Boolean.getBoolean("barista.regenerateDocs")) {
      Files.writeString(doc, text.substring(0, start) + generated + text.substring(end), StandardCharsets.UTF_8);
      return;
    }
    assertEquals(generated, text.substring(start, end),
        "docs/configuration.md's help block is not what `barista serve --help` prints; regenerate it: " + REGENERATE);
  }

  /**
   * Every option name ("--x"; a negatable one as "--x"), help and version included; vLLM's flags that barista only
   * accepts or refuses (hidden from --help, listed in docs/vllm-differences.md) only with {@code hidden}.
   */
  private static Set<String> optionNames(boolean hidden) {
    Set<String> names = new TreeSet<>();
    for (OptionSpec o : serve().getCommandSpec().options()) {
      if (o.hidden() && !hidden) continue;
      for (String n : o.names()) if (n.startsWith("--")) names.add(n);
    }
    return names;
  }

  /**
   * Flags a document names outside code blocks (in table rows only, if {@code tablesOnly}); "--[no-]x" and "--no-x"
   * count as "--x" when x is negatable.
   */
  private static Set<String> flagsNamed(String markdown, boolean tablesOnly) {
    Set<String> negatable = new TreeSet<>();
    for (OptionSpec o : serve().getCommandSpec().options()) if (o.negatable()) negatable.add(o.longestName());
    Set<String> flags = new TreeSet<>();
    boolean inCode = false;
    for (String line : markdown.split("\n")) {
      if (line.startsWith("```")) inCode = !inCode;
      if (inCode || line.startsWith("```") || (tablesOnly && !line.startsWith("|"))) continue;
      Matcher m = FLAG.matcher(line);
      while (m.find()) {
        String flag = "--" + m.group(2);
        if (flag.startsWith("--no-") && negatable.contains("--" + flag.substring(5))) flag = "--" + flag.substring(5);
        flags.add(flag);
      }
    }
    return flags;
  }

  private static List<String> missing(Set<String> wanted, Set<String> present) {
    List<String> out = new ArrayList<>();
    for (String w : wanted) if (!present.contains(w)) out.add(w);
    return out;
  }

  @Test
  void configurationDescribesExactlyTheServeFlags() throws IOException {
    String doc = Files.readString(repoFile("docs/configuration.md"));
    int flags = doc.indexOf("\n## Flags\n");
    assertTrue(flags >= 0, "docs/configuration.md has no ## Flags section");
    int next = doc.indexOf("\n## ", flags + 1);
    String flagsSection = doc.substring(flags, next < 0 ? doc.length() : next);
    Set<String> options = optionNames(true);
    Set<String> wanted = new TreeSet<>(optionNames(false));
    wanted.removeAll(Set.of("--help", "--version"));
    assertEquals(List.of(), missing(wanted, flagsNamed(flagsSection, false)),
        "flags docs/configuration.md's ## Flags section does not describe");
    // Other sections may name other commands' flags (make-model --preset); the Flags section names serve's only.
    assertEquals(List.of(), missing(flagsNamed(flagsSection, false), options),
        "flags docs/configuration.md's ## Flags section names that serve lacks");
  }

  @Test
  void readmeFlagTableListsExactlyTheServeFlags() throws IOException {
    Set<String> listed = flagsNamed(Files.readString(repoFile("README.md")), true); // its prose shows other commands
    Set<String> options = optionNames(true);
    List<String> unlisted = new ArrayList<>();
    for (OptionSpec o : serve().getCommandSpec().options()) {
      if (o.usageHelp() || o.versionHelp() || o.hidden()) continue;
      boolean any = false;
      for (String n : o.names()) any |= listed.contains(n);
      if (!any) unlisted.add(o.longestName());
    }
    assertEquals(List.of(), unlisted, "serve flags README.md's flag table does not list");
    assertEquals(List.of(), missing(listed, options), "flags README.md's table names that serve lacks");
  }
}
