package barista.engine.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.ModelConfig;
import barista.engine.checkpoint.R1DistillFiles;
import barista.engine.checkpoint.SafetensorsFile;
import barista.engine.checkpoint.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelMakerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void tinyPresetHasHuggingFaceNamesAndShapes() throws Exception {
    ModelMaker.make(ModelMaker.Options.of("tiny", 1), dir);
    assertTrue(Files.exists(dir.resolve("model.safetensors")));
    assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
    try (Checkpoint ckpt = Checkpoint.open(dir)) {
      ModelConfig c = ckpt.config();
      assertEquals(ModelConfig.QWEN2, c.architecture());
      assertEquals(List.of(2, 64, 4, 2, 16, 176, 4096), List.of(c.numLayers(), c.hiddenSize(), c.numHeads(),
          c.numKvHeads(), c.headDim(), c.intermediateSize(), c.maxPositionEmbeddings()));
      assertEquals(0, c.vocabSize() % 64);
      assertEquals("bfloat16", c.torchDtype());
      assertEquals(expectedNames(c), ckpt.names());
      expectHuggingFaceShapes(ckpt);
      assertEquals(DType.BF16, ckpt.info("lm_head.weight").dtype());
    }
  }

  @Test
  void sameSeedWritesIdenticalBytesAndAnotherSeedDoesNot() throws Exception {
    ModelMaker.make(ModelMaker.Options.of("tiny", 42), dir.resolve("a"));
    ModelMaker.make(ModelMaker.Options.of("tiny", 42), dir.resolve("b"));
    ModelMaker.make(ModelMaker.Options.of("tiny", 43), dir.resolve("c"));
    for (String file : List.of("model.safetensors", "config.json", "generation_config.json")) {
      assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(file)), Files.readAllBytes(dir.resolve("b").resolve(file)), file);
    }
    String sha = sha256(dir.resolve("a/model.safetensors"));
    assertFalse(sha.equals(sha256(dir.resolve("c/model.safetensors"))));
    // Compare with another machine: the same preset and seed must print the same digest there.
    System.out.println("ModelMaker tiny seed 42 model.safetensors sha256 " + sha);
  }

  @Test
  void shardsAndIndexesWhenOverTheShardLimit() throws Exception {
    ModelMaker.make(ModelMaker.Options.of("tiny", 7), dir.resolve("single"));
    long limit = 100_000;
    ModelMaker.make(ModelMaker.Options.of("tiny", 7), dir.resolve("sharded"), limit);

    Path sharded = dir.resolve("sharded");
    JsonNode index = JSON.readTree(sharded.resolve("model.safetensors.index.json").toFile());
    List<Path> shards;
    try (Stream<Path> files = Files.list(sharded)) {
      shards = files.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
    }
    assertTrue(shards.size() > 1);
    assertEquals("model-00001-of-0000" + shards.size() + ".safetensors", shards.get(0).getFileName().toString());
    try (Checkpoint one = Checkpoint.open(dir.resolve("single")); Checkpoint many = Checkpoint.open(sharded)) {
      assertEquals(one.names(), many.names());
      long total = 0;
      for (String name : one.names()) {
        assertEquals(one.raw(name), many.raw(name), name);
        total += many.info(name).byteLength();
      }
      assertEquals(total, index.path("metadata").path("total_size").asLong());
      for (Path shard : shards) {
        try (SafetensorsFile file = SafetensorsFile.open(shard)) {
          long bytes = file.tensors().values().stream().mapToLong(TensorInfo::byteLength).sum();
          assertTrue(bytes <= limit || file.tensors().size() == 1, shard + " holds " + bytes + " bytes");
        }
      }
    }

    ModelMaker.make(ModelMaker.Options.of("tiny", 7), sharded); // remade unsharded in place: no stale shards remain
    try (Stream<Path> files = Files.list(sharded)) {
      assertEquals(List.of("model.safetensors"), files.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("model")).toList());
    }
  }

  @Test
  void r1PresetWritesTheReferenceConfigFields() throws Exception {
    // Shrunk so the test stays small; every field not overridden must equal the published file's.
    ModelMaker.Options small = new ModelMaker.Options("r1-distill-1.5b", 1, null, 1, 64, 4, 2, 128, 256, null, null);
    ModelMaker.make(small, dir);
    JsonNode written = JSON.readTree(dir.resolve("config.json").toFile());
    JsonNode reference = JSON.readTree(R1DistillFiles.CONFIG_JSON);
    Set<String> overridden = Set.of("num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads",
        "intermediate_size", "vocab_size");
    assertEquals(fieldNames(reference), fieldNames(written));
    for (String field : fieldNames(reference)) {
      if (overridden.contains(field)) continue;
      JsonNode expected = reference.get(field);
      JsonNode actual = written.get(field);
      if (expected.isNumber()) {
        assertEquals(expected.doubleValue(), actual.doubleValue(), field);
      } else {
        assertEquals(expected, actual, field);
      }
    }
    assertEquals(JSON.readTree(R1DistillFiles.GENERATION_CONFIG_JSON),
        JSON.readTree(dir.resolve("generation_config.json").toFile()));
  }

  @Test
  void tiedAndLlamaVariants() throws Exception {
    ModelMaker.Options tiedLlama = new ModelMaker.Options("tiny", 3, DType.F32, 1, null, null, null, null, null, true,
        ModelConfig.LLAMA);
    ModelMaker.make(tiedLlama, dir);
    try (Checkpoint ckpt = Checkpoint.open(dir)) {
      ModelConfig c = ckpt.config();
      assertEquals(ModelConfig.LLAMA, c.architecture());
      assertTrue(c.tieWordEmbeddings());
      assertFalse(c.attentionBias());
      assertEquals("float32", c.torchDtype());
      assertEquals(expectedNames(c), ckpt.names());
      assertFalse(ckpt.has("lm_head.weight"));
      assertFalse(ckpt.has("model.layers.0.self_attn.q_proj.bias"));
      expectHuggingFaceShapes(ckpt);
    }
  }

  /** Writes the full 1.5B preset (3.5 GB); run with -Dbarista.bigTests=true. */
  @Test
  void r1PresetAtFullSize() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("barista.bigTests"), "set -Dbarista.bigTests=true");
    long start = System.nanoTime();
    ModelMaker.make(ModelMaker.Options.of("r1-distill-1.5b", 0), dir);
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("r1-distill-1.5b preset written in %.1f s%n", seconds);
    assertTrue(seconds < 60, "took " + seconds + " s");
    try (Checkpoint ckpt = Checkpoint.open(dir)) {
      assertEquals(ModelConfig.parse(JSON.readTree(R1DistillFiles.CONFIG_JSON), "reference"), ckpt.config());
      assertEquals(expectedNames(ckpt.config()), ckpt.names());
      expectHuggingFaceShapes(ckpt);
      long total = ckpt.names().stream().mapToLong(n -> ckpt.info(n).byteLength()).sum();
      assertEquals(3_554_176_000L, total);
      ByteBuffer lmHead = ckpt.f32("lm_head.weight");
      assertTrue(Float.isFinite(lmHead.getFloat(lmHead.limit() - 4)));
    }
  }

  static Set<String> expectedNames(ModelConfig c) {
    List<String> names = new ArrayList<>(List.of("model.embed_tokens.weight", "model.norm.weight"));
    if (!c.tieWordEmbeddings()) names.add("lm_head.weight");
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      names.addAll(List.of(p + "input_layernorm.weight", p + "post_attention_layernorm.weight",
          p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight",
          p + "self_attn.o_proj.weight", p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight"));
      if (c.attentionBias()) {
        names.addAll(List.of(p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias"));
      }
    }
    return new HashSet<>(names);
  }

  static void expectHuggingFaceShapes(Checkpoint ckpt) {
    ModelConfig c = ckpt.config();
    long hidden = c.hiddenSize();
    long q = (long) c.numHeads() * c.headDim();
    long kv = (long) c.numKvHeads() * c.headDim();
    long inter = c.intermediateSize();
    ckpt.expectShape("model.embed_tokens.weight", c.vocabSize(), hidden);
    ckpt.expectShape("model.norm.weight", hidden);
    if (!c.tieWordEmbeddings()) ckpt.expectShape("lm_head.weight", c.vocabSize(), hidden);
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      ckpt.expectShape(p + "input_layernorm.weight", hidden);
      ckpt.expectShape(p + "post_attention_layernorm.weight", hidden);
      ckpt.expectShape(p + "self_attn.q_proj.weight", q, hidden);
      ckpt.expectShape(p + "self_attn.k_proj.weight", kv, hidden);
      ckpt.expectShape(p + "self_attn.v_proj.weight", kv, hidden);
      ckpt.expectShape(p + "self_attn.o_proj.weight", hidden, q);
      ckpt.expectShape(p + "mlp.gate_proj.weight", inter, hidden);
      ckpt.expectShape(p + "mlp.up_proj.weight", inter, hidden);
      ckpt.expectShape(p + "mlp.down_proj.weight", hidden, inter);
      if (c.attentionBias()) {
        ckpt.expectShape(p + "self_attn.q_proj.bias", q);
        ckpt.expectShape(p + "self_attn.k_proj.bias", kv);
        ckpt.expectShape(p + "self_attn.v_proj.bias", kv);
      }
    }
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
