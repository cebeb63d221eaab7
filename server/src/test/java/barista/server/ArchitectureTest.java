package barista.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package graph of every module's main code, read from the sources (imports and fully qualified names): no
 * package cycle, and no serving package uses the tooling that writes checkpoints and tokenizers.
 */
class ArchitectureTest {
  private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
  /** A barista class named anywhere: in an import (a wildcard one too) or written out in full in the code. */
  private static final Pattern REFERENCE = Pattern.compile("\\b(barista(?:\\.[a-z]\\w*)+)\\.(?:[A-Z]|\\*)");

  /** What runs while serving: none of it may use the tooling. */
  static final Set<String> SERVING = Set.of("barista.kvcache", "barista.scheduler", "barista.engine",
      "barista.engine.checkpoint", "barista.engine.constraint", "barista.engine.cuda", "barista.engine.linear",
      "barista.engine.model", "barista.engine.quant", "barista.engine.sampling", "barista.engine.tokenizer",
      "barista.server", "barista.server.endpoints", "barista.server.frontend", "barista.server.generation",
      "barista.server.http", "barista.server.metrics", "barista.server.model", "barista.server.openai");
  /** Writing synthetic checkpoints, tokenizers and quantized copies: what the commands run, never a request. */
  static final Set<String> TOOLING = Set.of("barista.engine.tools");
  /** The commands and what wires them (the demo model is made on first serve): these may use the tooling. */
  static final Set<String> COMMANDS = Set.of("barista.config", "barista.server.bench", "barista.server.cli",
      "barista.server.ops", "barista.server.progress", "barista.server.wiring");

  private static Path repo() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("pom.xml").resolveSibling(".ci").resolve("run"))) {
      dir = dir.getParent();
    }
    if (dir == null) throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
    return dir;
  }

  /** package -> the barista packages its main sources name (imports and fully qualified names). */
  static Map<String, Set<String>> packageGraph(Path root) throws IOException {
    Map<String, Set<String>> graph = new TreeMap<>();
    for (String module : List.of("config", "kvcache", "engine", "scheduler", "server")) {
      Path src = root.resolve(module).resolve("src/main/java");
      try (Stream<Path> files = Files.walk(src)) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
          String text = code(Files.readString(f));
          Matcher p = PACKAGE.matcher(text);
          if (!p.find()) continue;
          Set<String> edges = graph.computeIfAbsent(p.group(1), k -> new TreeSet<>());
          Matcher i = REFERENCE.matcher(text);
          while (i.find()) {
            String target = i.group(1); // package segments are lower case, so the class name is not matched
            if (!target.equals(p.group(1))) edges.add(target);
          }
        }
      }
    }
    return graph;
  }

  /**
   * The source with comments and the contents of string and character literals blanked out, so that a class named
   * in a comment or a message is not taken for a dependency.
   */
  static String code(String source) {
    StringBuilder out = new StringBuilder(source.length());
    int i = 0;
    int n = source.length();
    while (i < n) {
      char c = source.charAt(i);
      if (source.startsWith("//", i)) {
        while (i < n && source.charAt(i) != '\n') i++;
      } else if (source.startsWith("/*", i)) {
        int end = source.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
        out.append(' ');
      } else if (source.startsWith("\"\"\"", i)) {
        int end = source.indexOf("\"\"\"", i + 3);
        while (end > 0 && source.charAt(end - 1) == '\\') end = source.indexOf("\"\"\"", end + 1);
        i = end < 0 ? n : end + 3;
        out.append("\"\"");
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') j += source.charAt(j) == '\\' ? 2 : 1;
        i = j + 1;
        out.append(c).append(c);
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** The strongly connected components of more than one package (Tarjan's algorithm). */
  static List<Set<String>> cycles(Map<String, Set<String>> graph) {
    Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    List<Set<String>> found = new ArrayList<>();
    int[] next = {0};
    for (String v : graph.keySet()) {
      if (!index.containsKey(v)) connect(v, graph, index, low, stack, found, next);
    }
    return found;
  }

  private static void connect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, List<Set<String>> found, int[] next) {
    index.put(v, next[0]);
    low.put(v, next[0]++);
    stack.push(v);
    for (String w : graph.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        connect(w, graph, index, low, stack, found, next);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (stack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> component = new TreeSet<>();
      String w;
      do {
        w = stack.pop();
        component.add(w);
      } while (!w.equals(v));
      if (component.size() > 1) found.add(component);
    }
  }

  @Test
  void noPackageCycle() throws IOException {
    Map<String, Set<String>> graph = packageGraph(repo());
    assertTrue(graph.containsKey("barista.engine.model") && graph.containsKey("barista.server"),
        "the sources were not found: " + graph.keySet());
    List<Set<String>> cycles = cycles(graph);
    assertTrue(cycles.isEmpty(), "package cycles in main code: " + cycles);
  }

  /** Each "serving package -> tooling package" edge of the graph. */
  static List<String> servingUsesOfTooling(Map<String, Set<String>> graph, Set<String> serving, Set<String> tooling) {
    List<String> found = new ArrayList<>();
    graph.forEach((from, targets) -> {
      if (!serving.contains(from)) return;
      for (String to : targets) {
        if (tooling.contains(to)) found.add(from + " -> " + to);
      }
    });
    return found;
  }

  @Test
  void noServingPackageUsesTheTooling() throws IOException {
    Map<String, Set<String>> graph = packageGraph(repo());
    assertTrue(graph.containsKey("barista.engine.tools"), "the tooling was not found: " + graph.keySet());
    List<String> uses = servingUsesOfTooling(graph, SERVING, TOOLING);
    assertTrue(uses.isEmpty(), "serving code uses the tooling (move the use to a command or wiring): " + uses);
  }

  /** Request parsing is held to a RequestPolicy built at startup, not to the command line's option classes. */
  @Test
  void requestParsingDoesNotReadLaunchOptions() throws IOException {
    Set<String> uses = packageGraph(repo()).get("barista.server.openai");
    assertTrue(uses != null && !uses.contains("barista.config"), "barista.server.openai uses " + uses);
  }

  /**
   * The scheduler drives the engine through its step interfaces (StepExecutor, ScheduledSequence, StepPipeline) and
   * the data a step carries (sampling, constraints); building a model runner, tokenizer or template is wiring's job.
   */
  @Test
  void theSchedulerUsesOnlyTheEnginesStepInterfaces() throws IOException {
    Set<String> engineUses = new TreeSet<>(packageGraph(repo()).get("barista.scheduler"));
    engineUses.removeIf(p -> !p.startsWith("barista.engine"));
    engineUses.removeAll(Set.of("barista.engine", "barista.engine.sampling", "barista.engine.constraint"));
    assertTrue(engineUses.isEmpty(), "the scheduler uses more of the engine than its step interfaces: " + engineUses);
  }

  /** A new package says which side it is on, so the rule above cannot miss it. */
  @Test
  void everyPackageIsServingToolingOrACommand() throws IOException {
    Set<String> unplaced = new TreeSet<>(packageGraph(repo()).keySet());
    unplaced.removeAll(SERVING);
    unplaced.removeAll(TOOLING);
    unplaced.removeAll(COMMANDS);
    assertTrue(unplaced.isEmpty(), "packages in none of SERVING, TOOLING, COMMANDS: " + unplaced);
    Map<String, Integer> sides = new TreeMap<>();
    for (Set<String> side : List.of(SERVING, TOOLING, COMMANDS)) side.forEach(p -> sides.merge(p, 1, Integer::sum));
    sides.values().removeIf(count -> count == 1);
    assertTrue(sides.isEmpty(), "packages on two sides: " + sides.keySet());
  }

  /** The rule finds a serving package's use of the tooling, in an import or a fully qualified name, and only that. */
  @Test
  void aServingUseOfToolingIsFound() {
    String handler = code("""
        package barista.demo.serving;
        import barista.demo.serving.util.Helper;
        import barista.demo.tools.more.*;
        // barista.demo.tools.InComment is only mentioned
        class Handler { String s = "barista.demo.tools.InString"; Object m = barista.demo.tools.Maker.make(); }
        """);
    assertTrue(!handler.contains("InComment") && !handler.contains("InString"), handler);
    Matcher m = REFERENCE.matcher(handler);
    Set<String> targets = new TreeSet<>();
    while (m.find()) targets.add(m.group(1));
    assertTrue(targets.equals(Set.of("barista.demo.serving.util", "barista.demo.tools", "barista.demo.tools.more")),
        "read " + targets);
    Map<String, Set<String>> graph = Map.of("barista.demo.serving", targets,
        "barista.demo.cli", Set.of("barista.demo.tools"), "barista.demo.tools", Set.of("barista.demo.serving.util"));
    List<String> found = servingUsesOfTooling(graph, Set.of("barista.demo.serving", "barista.demo.serving.util"),
        Set.of("barista.demo.tools", "barista.demo.tools.more"));
    assertTrue(found.equals(List.of("barista.demo.serving -> barista.demo.tools",
        "barista.demo.serving -> barista.demo.tools.more")), "found " + found);
  }

  /** Distinct names for distinct classes: no simple class name twice in main code (package-info aside). */
  @Test
  void noSimpleClassNameIsUsedTwiceInMainCode() throws IOException {
    Map<String, List<Path>> byName = new TreeMap<>();
    for (String module : List.of("config", "kvcache", "engine", "scheduler", "server")) {
      try (Stream<Path> files = Files.walk(repo().resolve(module).resolve("src/main/java"))) {
        files.filter(f -> f.toString().endsWith(".java") && !f.endsWith("package-info.java"))
            .forEach(f -> byName.computeIfAbsent(f.getFileName().toString(), k -> new ArrayList<>()).add(f));
      }
    }
    assertTrue(byName.size() > 100, "the sources were not found: " + byName.size() + " names");
    Map<String, List<Path>> twice = new TreeMap<>();
    byName.forEach((name, paths) -> {
      if (paths.size() > 1) twice.put(name, paths);
    });
    assertTrue(twice.isEmpty(), "class names used more than once in main code: " + twice);
  }

  /** The check itself finds a cycle, and only a real one. */
  @Test
  void aCycleIsFound() {
    Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
    List<Set<String>> found = cycles(graph);
    assertTrue(found.size() == 1 && found.get(0).equals(Set.of("a", "b", "c")), "found " + found);
  }
}
