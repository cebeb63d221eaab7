package barista.server.wiring;

import barista.engine.tools.ModelMaker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a model argument points: a folder, a Hugging Face repo id already in the local hub cache (found as vLLM
 * finds it offline: {@code models--ORG--NAME/snapshots/<commit>}, the commit read from {@code refs/<revision>}), or
 * nothing, meaning the built-in demo model.
 */
public final class ModelPaths {
  private static final Logger log = LoggerFactory.getLogger(ModelPaths.class);
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

  private ModelPaths() {}

  /**
   * @param revision a branch, tag or commit in the hub cache; null means main
   * @param downloadDir --download-dir: the hub cache to look in, before the environment's; may be null
   * @param env the environment (HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME)
   */
  public static Path resolve(String model, String revision, Path downloadDir, Map<String, String> env) throws IOException {
    if (model == null) return demoModel();
    Path dir = Path.of(model);
    if (Files.isDirectory(dir)) return dir;
    if (!isRepoId(model)) {
      throw new IllegalArgumentException("model " + model + " is not a folder (and not an ORG/NAME repo id)");
    }
    Path hub = hubCache(downloadDir, env);
    Path repo = hub.resolve("models--" + model.replace("/", "--"));
    String rev = revision == null ? "main" : revision;
    Path snapshot = snapshot(repo, rev);
    if (snapshot != null) return snapshot;
    Path flat = hub.resolve(model);
    String misplaced = Files.isDirectory(flat) ? " (" + flat + " exists, but the cache is not laid out that way)" : "";
    throw new IllegalArgumentException("model " + model + " is not a folder, and the Hugging Face cache "
        + hubSource(downloadDir, env) + " has no snapshot of it: expected " + repo.resolve("snapshots")
        + "/<commit>/ with the commit in " + repo.resolve("refs").resolve(rev) + misplaced + "; place the checkpoint "
        + "there, or serve its folder: barista serve /path/to/folder --served-model-name " + model
        + " (this server does not download)");
  }

  private static boolean isRepoId(String model) {
    String[] parts = model.split("/", -1);
    return parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() && !model.startsWith(".");
  }

  /**
   * The hub cache, in the order vLLM (through huggingface_hub) picks it: --download-dir, HF_HUB_CACHE,
   * HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.
   */
  static Path hubCache(Path downloadDir, Map<String, String> env) {
    if (downloadDir != null) return downloadDir;
    for (String name : new String[] {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) return Path.of(value);
    }
    String hfHome = env.get("HF_HOME");
    if (hfHome != null && !hfHome.isBlank()) return Path.of(hfHome, "hub");
    String xdg = env.get("XDG_CACHE_HOME");
    Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return cache.resolve("huggingface").resolve("hub");
  }

  /** The cache folder and what chose it, for messages. */
  private static String hubSource(Path downloadDir, Map<String, String> env) {
    Path hub = hubCache(downloadDir, env);
    if (downloadDir != null) return hub + " (--download-dir)";
    for (String name : new String[] {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) return hub + " (from $" + name + ")";
    }
    return hub.toString();
  }

  /**
   * The snapshot for a revision: the commit {@code refs/<revision>} names, or the revision itself when it is a
   * commit; for main without {@code refs/main} (a cache copied by hand), the only snapshot there is.
   */
  private static Path snapshot(Path repo, String revision) throws IOException {
    Path snapshots = repo.resolve("snapshots");
    Path ref = repo.resolve("refs").resolve(revision);
    if (Files.isRegularFile(ref)) {
      Path snapshot = snapshots.resolve(Files.readString(ref).strip());
      return Files.isDirectory(snapshot) ? snapshot : null;
    }
    if (COMMIT.matcher(revision).matches() && Files.isDirectory(snapshots.resolve(revision))) {
      return snapshots.resolve(revision);
    }
    if (revision.equals("main") && Files.isDirectory(snapshots)) {
      try (Stream<Path> s = Files.list(snapshots)) {
        List<Path> all = s.filter(Files::isDirectory).toList();
        if (all.size() == 1) return all.get(0);
        if (all.size() > 1) {
          throw new IllegalArgumentException(repo + " has " + all.size() + " snapshots and no refs/main to choose "
              + "one; pass --revision COMMIT");
        }
      }
    }
    return null;
  }

  /** The tiny synthetic checkpoint, made on first use in ~/.cache/barista/demo-tiny. */
  static Path demoModel() throws IOException {
    Path dir = Path.of(System.getProperty("user.home"), ".cache", "barista", "demo-tiny");
    if (!Files.isRegularFile(dir.resolve("config.json")) || !Files.isRegularFile(dir.resolve("tokenizer.json"))) {
      Path partial = Files.createTempDirectory(Files.createDirectories(dir.getParent()), "demo-tiny.");
      ModelMaker.make(ModelMaker.Options.of(ModelMaker.TINY, 0), partial);
      try (Stream<Path> old = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
        old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      Files.move(partial, dir);
    }
    log.info("No --model given: serving the built-in demo model at {} (a tiny synthetic checkpoint: its weights are "
        + "random, so its text is gibberish)", dir);
    return dir;
  }
}
