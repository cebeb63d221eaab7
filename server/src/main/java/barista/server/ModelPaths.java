package barista.server;

import barista.engine.checkpoint.ModelMaker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a model argument points: a folder, a Hugging Face repo id already in the local hub cache ($HF_HOME/hub or
 * ~/.cache/huggingface/hub, as vLLM finds them offline), or nothing, meaning the built-in demo model.
 */
final class ModelPaths {
  private static final Logger log = LoggerFactory.getLogger(ModelPaths.class);

  private ModelPaths() {}

  /** @param revision a branch, tag or commit in the hub cache; null means main */
  static Path resolve(String model, String revision) throws IOException {
    if (model == null) return demoModel();
    Path dir = Path.of(model);
    if (Files.isDirectory(dir)) return dir;
    if (model.contains("/") && !model.startsWith("/") && !model.startsWith(".")) {
      Path snapshot = hubSnapshot(model, revision == null ? "main" : revision);
      if (snapshot != null) return snapshot;
    }
    throw new IllegalArgumentException("model " + model + " is neither a folder nor a repo id in the local Hugging "
        + "Face cache (" + hubRoot() + "); this server does not download");
  }

  private static Path hubRoot() {
    String hfHome = System.getenv("HF_HOME");
    String hubCache = System.getenv("HF_HUB_CACHE");
    if (hubCache != null) return Path.of(hubCache);
    return hfHome != null ? Path.of(hfHome, "hub") : Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
  }

  private static Path hubSnapshot(String repoId, String revision) throws IOException {
    Path repo = hubRoot().resolve("models--" + repoId.replace("/", "--"));
    Path ref = repo.resolve("refs").resolve(revision);
    String commit = Files.isRegularFile(ref) ? Files.readString(ref).trim() : revision;
    Path snapshot = repo.resolve("snapshots").resolve(commit);
    if (Files.isDirectory(snapshot)) return snapshot;
    Path snapshots = repo.resolve("snapshots");
    if (revision.equals("main") && Files.isDirectory(snapshots)) {
      try (Stream<Path> s = Files.list(snapshots)) {
        return s.filter(Files::isDirectory).findFirst().orElse(null);
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
