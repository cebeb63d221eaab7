package barista.server.wiring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Repo ids found in a Hugging Face cache laid out as huggingface_hub writes it and vLLM reads it. */
class ModelPathsTest {
  private static final String REPO = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B";
  private static final String COMMIT = "ad9f0ae0864d7fbcd1cd905e3c6c5b069cc8b562";
  private static final String OTHER_COMMIT = "0123456789abcdef0123456789abcdef01234567";

  @TempDir
  Path tmp;

  /** models--ORG--NAME/snapshots/COMMIT/config.json, and refs/main naming it when {@code withRef}. */
  static Path placeSnapshot(Path hub, String repo, String commit, boolean withRef) throws IOException {
    Path entry = hub.resolve("models--" + repo.replace("/", "--"));
    Path snapshot = Files.createDirectories(entry.resolve("snapshots").resolve(commit));
    Files.writeString(snapshot.resolve("config.json"), "{}");
    if (withRef) Files.writeString(Files.createDirectories(entry.resolve("refs")).resolve("main"), commit + "\n");
    return snapshot;
  }

  @Test
  void findsTheSnapshotRefsMainNames() throws IOException {
    Path hub = tmp.resolve("hf/hub");
    placeSnapshot(hub, REPO, OTHER_COMMIT, false);
    Path snapshot = placeSnapshot(hub, REPO, COMMIT, true);
    assertEquals(snapshot, ModelPaths.resolve(REPO, null, null, Map.of("HF_HOME", tmp.resolve("hf").toString())));
  }

  @Test
  void withoutRefsMainTheOnlySnapshotIsUsed() throws IOException {
    Path hub = tmp.resolve("hub");
    Path snapshot = placeSnapshot(hub, REPO, COMMIT, false);
    assertEquals(snapshot, ModelPaths.resolve(REPO, null, null, Map.of("HF_HUB_CACHE", hub.toString())));
  }

  @Test
  void severalSnapshotsWithoutRefsMainAskForARevision() throws IOException {
    Path hub = tmp.resolve("hub");
    placeSnapshot(hub, REPO, COMMIT, false);
    placeSnapshot(hub, REPO, OTHER_COMMIT, false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelPaths.resolve(REPO, null, null, Map.of("HF_HUB_CACHE", hub.toString())));
    assertTrue(e.getMessage().contains("pass --revision"), e.getMessage());
    assertEquals(hub.resolve("models--deepseek-ai--DeepSeek-R1-Distill-Qwen-1.5B/snapshots/" + OTHER_COMMIT),
        ModelPaths.resolve(REPO, OTHER_COMMIT, null, Map.of("HF_HUB_CACHE", hub.toString())));
  }

  @Test
  void aRevisionIsReadFromItsRef() throws IOException {
    Path hub = tmp.resolve("hub");
    placeSnapshot(hub, REPO, COMMIT, true);
    Path v2 = placeSnapshot(hub, REPO, OTHER_COMMIT, false);
    Files.writeString(hub.resolve("models--deepseek-ai--DeepSeek-R1-Distill-Qwen-1.5B/refs/v2"), OTHER_COMMIT);
    assertEquals(v2, ModelPaths.resolve(REPO, "v2", null, Map.of("HF_HUB_CACHE", hub.toString())));
  }

  /** vLLM's order: --download-dir, HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub. */
  @Test
  void theCacheFolderIsChosenInVllmsOrder() {
    Path dir = tmp.resolve("d");
    Map<String, String> all = Map.of("HF_HUB_CACHE", "/a", "HUGGINGFACE_HUB_CACHE", "/b", "HF_HOME", "/c",
        "XDG_CACHE_HOME", "/x");
    assertEquals(dir, ModelPaths.hubCache(dir, all));
    assertEquals(Path.of("/a"), ModelPaths.hubCache(null, all));
    assertEquals(Path.of("/b"), ModelPaths.hubCache(null, Map.of("HUGGINGFACE_HUB_CACHE", "/b", "HF_HOME", "/c")));
    assertEquals(Path.of("/c/hub"), ModelPaths.hubCache(null, Map.of("HF_HOME", "/c", "XDG_CACHE_HOME", "/x")));
    assertEquals(Path.of("/x/huggingface/hub"), ModelPaths.hubCache(null, Map.of("XDG_CACHE_HOME", "/x")));
    assertEquals(Path.of(System.getProperty("user.home"), ".cache/huggingface/hub"), ModelPaths.hubCache(null, Map.of()));
  }

  @Test
  void aCheckpointInTheWrongLayoutIsNamedWithTheFolderExpected() throws IOException {
    Path hub = tmp.resolve("hf/hub");
    Files.createDirectories(hub.resolve(REPO)); // $HF_HOME/hub/ORG/NAME: not how the cache is laid out
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelPaths.resolve(REPO, null, null, Map.of("HF_HOME", tmp.resolve("hf").toString())));
    Path expected = hub.resolve("models--deepseek-ai--DeepSeek-R1-Distill-Qwen-1.5B");
    assertEquals("model " + REPO + " is not a folder, and the Hugging Face cache " + hub + " (from $HF_HOME) has no "
        + "snapshot of it: expected " + expected.resolve("snapshots") + "/<commit>/ with the commit in "
        + expected.resolve("refs/main") + " (" + hub.resolve(REPO) + " exists, but the cache is not laid out that "
        + "way); place the checkpoint there, or serve its folder: barista serve /path/to/folder --served-model-name "
        + REPO + " (this server does not download)", e.getMessage());
  }

  @Test
  void aFolderIsServedAsItIs() throws IOException {
    Path folder = Files.createDirectories(tmp.resolve("models/x"));
    assertEquals(folder, ModelPaths.resolve(folder.toString(), null, tmp.resolve("unused"), Map.of()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelPaths.resolve(tmp.resolve("missing").toString(), null, null, Map.of()));
    assertTrue(e.getMessage().contains("is not a folder"), e.getMessage());
  }
}
