package barista.engine.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.checkpoint.Checkpoint;
import barista.engine.quant.Quantization;
import barista.engine.tools.CheckpointQuantizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** make-model and quantize report each layer as they write it, in bytes that add up to the files' weights. */
class WriteProgressTest {
  @TempDir
  Path dir;

  private record Update(long done, long total, String where) {}

  @Test
  void partNamesFollowTheTensorNames() {
    assertEquals("embeddings", WriteProgress.partOf("model.embed_tokens.weight", 28));
    assertEquals("layer 1/28", WriteProgress.partOf("model.layers.0.self_attn.q_proj.weight", 28));
    assertEquals("layer 28/28", WriteProgress.partOf("model.layers.27.mlp.down_proj.weight", 28));
    assertEquals("head", WriteProgress.partOf("lm_head.weight", 28));
    assertEquals("head", WriteProgress.partOf("model.norm.weight", 28));
  }

  @Test
  void makeModelReportsEveryLayerAndEndsAtTheWeightsSize() throws Exception {
    List<Update> updates = new ArrayList<>();
    ModelMaker.make(new ModelMaker.Options("tiny", 0, null, 3, null, null, null, null, null, null, null), dir.resolve("m"),
        (done, total, where) -> updates.add(new Update(done, total, where)));
    checkUpdates(updates, List.of("embeddings", "layer 1/3", "layer 2/3", "layer 3/3", "head"),
        weightBytes(dir.resolve("m")));
  }

  @Test
  void quantizeReportsEveryLayer() throws Exception {
    ModelMaker.make(ModelMaker.Options.of("tiny", 0), dir.resolve("m"));
    List<Update> updates = new ArrayList<>();
    CheckpointQuantizer.quantize(dir.resolve("m"), dir.resolve("q"), Quantization.Method.INT8, null,
        (done, total, where) -> updates.add(new Update(done, total, where)));
    Set<String> parts = new LinkedHashSet<>();
    updates.forEach(u -> parts.add(u.where()));
    assertTrue(parts.containsAll(List.of("embeddings", "layer 1/2", "layer 2/2", "head")), parts.toString());
    checkUpdates(updates, null, weightBytes(dir.resolve("m")));
  }

  /** Done only grows and ends at total, which is the bytes of the (source) weights; parts in order when given. */
  private static void checkUpdates(List<Update> updates, List<String> parts, long weightBytes) {
    assertTrue(updates.size() >= 3, updates.toString());
    long total = updates.get(0).total();
    for (int i = 1; i < updates.size(); i++) {
      assertTrue(updates.get(i).done() > updates.get(i - 1).done(), "done went back: " + updates);
      assertEquals(total, updates.get(i).total());
    }
    assertEquals(total, updates.get(updates.size() - 1).done());
    assertEquals(weightBytes, total);
    if (parts != null) {
      Set<String> seen = new LinkedHashSet<>();
      updates.forEach(u -> seen.add(u.where()));
      assertEquals(parts, List.copyOf(seen));
    }
  }

  /** The tensor bytes of a model's safetensors files (their sizes less the headers). */
  private static long weightBytes(Path model) throws Exception {
    try (Checkpoint ckpt = Checkpoint.open(model)) {
      long sum = 0;
      for (String name : ckpt.names()) sum += ckpt.info(name).byteLength();
      return sum;
    }
  }
}
