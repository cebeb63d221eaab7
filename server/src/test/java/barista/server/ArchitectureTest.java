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
 * The package graph of every module's main code, read from the sources' imports: no package cycle beyond the one
 * still known (the server's own packages, which issue 25 is to break), so no new cycle can creep in.
 */
class ArchitectureTest {
  private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(barista(?:\\.[a-z]\\w*)+)",
      Pattern.MULTILINE);
  /** Cycles that exist today; each may shrink or go, none may grow and no other may appear. */
  private static final List<Set<String>> KNOWN = List.of(Set.of("barista.server", "barista.server.endpoints",
      "barista.server.generation", "barista.server.openai"));

  private static Path repo() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("pom.xml").resolveSibling(".ci").resolve("run"))) {
      dir = dir.getParent();
    }
    if (dir == null) throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
    return dir;
  }

  /** package -> the barista packages its main sources import. */
  static Map<String, Set<String>> packageGraph(Path root) throws IOException {
    Map<String, Set<String>> graph = new TreeMap<>();
    for (String module : List.of("config", "kvcache", "engine", "scheduler", "server")) {
      Path src = root.resolve(module).resolve("src/main/java");
      try (Stream<Path> files = Files.walk(src)) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
          String text = Files.readString(f);
          Matcher p = PACKAGE.matcher(text);
          if (!p.find()) continue;
          Set<String> edges = graph.computeIfAbsent(p.group(1), k -> new TreeSet<>());
          Matcher i = IMPORT.matcher(text);
          while (i.find()) {
            String target = i.group(1); // package segments are lower case, so the class name is not matched
            if (!target.equals(p.group(1))) edges.add(target);
          }
        }
      }
    }
    return graph;
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
  void noPackageCycleBeyondTheKnownOne() throws IOException {
    Map<String, Set<String>> graph = packageGraph(repo());
    assertTrue(graph.containsKey("barista.engine.model") && graph.containsKey("barista.server"),
        "the sources were not found: " + graph.keySet());
    for (Set<String> cycle : cycles(graph)) {
      assertTrue(KNOWN.stream().anyMatch(k -> k.containsAll(cycle)), "a package cycle in main code: " + cycle);
    }
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
