package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.DType;
import barista.engine.tools.SafetensorsWriter;
import barista.engine.checkpoint.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken AWQ checkpoints fail to load with one line naming the tensor (CheckpointException: CLI exit code 2). */
class BadInputTest {
  private static final String Q_PROJ = "model.layers.0.self_attn.q_proj";
  private static final String DOWN_PROJ = "model.layers.1.mlp.down_proj";

  @TempDir Path dir;

  @Test
  void truncatedQweight() throws IOException {
    copyAwqWith(Q_PROJ + ".qweight", DType.I32, new long[] {56, 8}, null); // q_proj is [64, 64/8]
    assertLoadFails(Q_PROJ + ".qweight", "[56, 8]");
  }

  @Test
  void scalesOfTheWrongShape() throws IOException {
    copyAwqWith(DOWN_PROJ + ".scales", DType.F16, new long[] {64, 11}, null); // down_proj is [176/16, 64]
    assertLoadFails(DOWN_PROJ + ".scales", "[64, 11]");
  }

  @Test
  void qweightOfTheWrongDtype() throws IOException {
    copyAwqWith(Q_PROJ + ".qweight", DType.F32, new long[] {64, 8}, null);
    assertLoadFails(Q_PROJ + ".qweight", "F32");
  }

  @Test
  void groupSizeNotDividingTheInputDim() throws IOException {
    copyAwqWith(null, null, null, "\"group_size\": 48");
    assertLoadFails(Q_PROJ + ".qweight", "group_size 48");
  }

  private void assertLoadFails(String tensor, String detail) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> {
      try (Checkpoint ckpt = Checkpoint.open(dir); NDManager manager = QuantTestModels.cpu()) {
        ReferenceLoads.load(ckpt, manager, DataType.FLOAT32, 64).close();
      }
    });
    assertTrue(e.getMessage().contains(tensor) && e.getMessage().contains(detail), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  /**
   * Copies the tiny AWQ checkpoint into {@code dir}, replacing one tensor with zeros of another dtype/shape
   * (when name is non-null) and the group_size line of config.json (when groupSize is non-null).
   */
  private void copyAwqWith(String name, DType dtype, long[] shape, String groupSize) throws IOException {
    Path src = QuantTestModels.tiny(Quantization.Method.AWQ);
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().endsWith(".safetensors")) Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    if (groupSize != null) {
      Path config = dir.resolve("config.json");
      Files.writeString(config, Files.readString(config).replaceAll("\"group_size\" ?: ?\\d+", groupSize));
    }
    try (Checkpoint ckpt = Checkpoint.open(src)) {
      List<SafetensorsWriter.Entry> entries = new ArrayList<>();
      for (String n : ckpt.names()) {
        TensorInfo t = ckpt.info(n);
        entries.add(n.equals(name) ? new SafetensorsWriter.Entry(n, dtype, shape) : new SafetensorsWriter.Entry(n, t.dtype(), t.shape()));
      }
      try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve("model.safetensors"), entries, Map.of())) {
        for (SafetensorsWriter.Entry e : entries) {
          w.write(e.name().equals(name) ? ByteBuffer.allocate((int) e.byteLength()) : ckpt.raw(e.name()));
        }
      }
    }
  }
}
