package barista.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.tools.SafetensorsWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir
    Path dir;

    @Test
    void loadsShardsNamedByTheIndex() throws Exception {
        writeConfig();
        writeTensors("model-00001-of-00002.safetensors", Map.of("a", 1f, "b", 2f));
        writeTensors("model-00002-of-00002.safetensors", Map.of("c", 3f));
        Files.writeString(dir.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 72},
                 "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                                "c": "model-00002-of-00002.safetensors"}}
                """);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(Set.of("a", "b", "c"), ckpt.names());
            assertEquals(dir.resolve("model-00002-of-00002.safetensors"), ckpt.info("c").file());
            assertEquals(3f, DTypes.bf16ToF32(ckpt.raw("c").getShort(4)));
            assertEquals(2f, ckpt.f32("b").getFloat(0));
            assertEquals(DTypes.f32ToF16(1f), ckpt.f16("a").getShort(8));
            assertTrue(ckpt.has("a"));
            assertFalse(ckpt.has("d"));
        }
    }

    @Test
    void rejectsAnIndexThatDisagreesWithItsShards() throws Exception {
        writeConfig();
        writeTensors("one.safetensors", Map.of("a", 1f));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"two.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("shard two.safetensors") && e.getMessage().contains("missing"), e.getMessage());

        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"z\": \"one.safetensors\"}}");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("tensor z") && e.getMessage().contains("one.safetensors"), e.getMessage());
    }

    @Test
    void withoutAnIndexReadsEverySafetensorsFile() throws Exception {
        writeConfig();
        writeTensors("x.safetensors", Map.of("a", 1f));
        writeTensors("y.safetensors", Map.of("b", 2f));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(Set.of("a", "b"), ckpt.names());
            assertEquals(2f, ckpt.f32("b").getFloat(0));
        }
        writeTensors("z.safetensors", Map.of("a", 5f));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("tensor a appears in both"), e.getMessage());
    }

    @Test
    void namesMissingTensorsAndWrongShapes() throws Exception {
        writeConfig();
        writeTensors("model.safetensors", Map.of("w", 1f));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            CheckpointException missing = assertThrows(CheckpointException.class, () -> ckpt.info("nope"));
            assertEquals("tensor nope not found in " + dir, missing.getMessage());
            ckpt.expectShape("w", 2, 3);
            CheckpointException shape = assertThrows(CheckpointException.class, () -> ckpt.expectShape("w", 3, 2));
            assertEquals("tensor w in " + dir.resolve("model.safetensors") + " has shape [2, 3], expected [3, 2]",
                    shape.getMessage());
        }
    }

    @Test
    void namesTheTruncatedFileAndTensor() throws Exception {
        writeConfig();
        writeTensors("model.safetensors", Map.of("w", 1f));
        try (FileChannel channel = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 4);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().startsWith("tensor w in " + dir.resolve("model.safetensors") + " is truncated"), e.getMessage());
    }

    @Test
    void explainsAMissingOrBrokenFolder() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir.resolve("absent")));
        assertEquals("model folder " + dir.resolve("absent") + " does not exist", e.getMessage());

        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertEquals("missing " + dir.resolve("config.json"), e.getMessage());

        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().startsWith("unreadable JSON in " + dir.resolve("config.json")), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());

        ObjectNode config = ModelConfigTest.reference();
        config.putArray("architectures").add("GPT2LMHeadModel");
        Files.writeString(dir.resolve("config.json"), config.toString());
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("unsupported architecture GPT2LMHeadModel"), e.getMessage());

        writeConfig();
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertEquals("no .safetensors files in " + dir, e.getMessage());
    }

    @Test
    void readsGenerationConfigWhenPresentElseDefaults() throws Exception {
        writeConfig();
        writeTensors("model.safetensors", Map.of("w", 1f));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(GenerationConfig.defaults(ckpt.config()), ckpt.generationConfig());
        }
        Files.writeString(dir.resolve("generation_config.json"), R1DistillFiles.GENERATION_CONFIG_JSON);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(0.6, ckpt.generationConfig().temperature());
            assertEquals(151646, ckpt.generationConfig().bosTokenId());
            assertEquals(1536, ckpt.config().hiddenSize());
        }
    }

    private void writeConfig() throws Exception {
        Files.writeString(dir.resolve("config.json"), R1DistillFiles.CONFIG_JSON);
    }

    /** A file of [2, 3] BF16 tensors, each filled with one value. */
    private void writeTensors(String file, Map<String, Float> fills) throws IOException {
        List<String> names = fills.keySet().stream().sorted().toList();
        List<SafetensorsWriter.Entry> entries = names.stream()
                .map(n -> new SafetensorsWriter.Entry(n, DType.BF16, new long[] {2, 3})).toList();
        try (SafetensorsWriter writer = SafetensorsWriter.create(dir.resolve(file), entries, Map.of("format", "pt"))) {
            for (String name : names) {
                ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                while (data.hasRemaining()) data.putShort(DTypes.f32ToBf16(fills.get(name)));
                writer.write(data.flip());
            }
        }
    }
}
