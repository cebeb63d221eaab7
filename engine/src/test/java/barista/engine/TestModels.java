package barista.engine;

import ai.djl.Device;
import barista.engine.tools.ModelMaker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Synthetic checkpoints for tests, made once per JVM (ModelMaker is deterministic). */
public final class TestModels {
  private static Path tiny;

  private TestModels() {}

  /** The {@code tiny} preset, seed 0, bf16 in the files like the real model. */
  public static synchronized Path tiny() {
    if (tiny == null) {
      try {
        Path dir = Files.createTempDirectory("barista-tiny");
        ModelMaker.make(ModelMaker.Options.of(ModelMaker.TINY, 0), dir);
        dir.toFile().deleteOnExit();
        tiny = dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return tiny;
  }

  /** A CPU float32 runner on the tiny model with the given paging. */
  public static ModelRunner cpuRunner(Path model, int blockSize, int numBlocks) {
    return ModelRunner.start(EngineConfig.defaults(model, Device.cpu()).withMaxModelLen(1024)
        .withBlocks(blockSize, numBlocks));
  }
}
