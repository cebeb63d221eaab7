package barista.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.TestModels;
import barista.server.Main;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The offline commands as a user runs them: output format, and one-line errors with exit code 2 for bad models. */
class GenerateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      int exit = cli.execute(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(stdout);
    }
  }

  @Test
  void generatesTheRequestedTokensForEachPrompt() throws IOException {
    Run r = run("generate", "--model", TestModels.tiny().toString(), "--device", "cpu", "--prompt", "hi",
        "--prompt", "你好, world 🌍", "--max-tokens", "16", "--temperature", "0", "--ignore-eos",
        "--max-model-len", "256");
    assertEquals(0, r.exit, r.err);
    String[] lines = r.out.strip().split("\n");
    assertEquals(2, lines.length, r.out);
    JsonNode first = JSON.readTree(lines[0]);
    assertEquals("hi", first.get("prompt").asText());
    assertEquals(16, first.get("token_ids").size());
    assertEquals("length", first.get("finish_reason").asText());
    assertTrue(first.get("prompt_tokens").asInt() > 0);
    assertEquals("你好, world 🌍", JSON.readTree(lines[1]).get("prompt").asText());
    // Greedy: a second run gives the same tokens.
    Run again = run("generate", "--model", TestModels.tiny().toString(), "--device", "cpu", "--prompt", "hi",
        "--max-tokens", "16", "--temperature", "0", "--ignore-eos", "--max-model-len", "256");
    assertEquals(first.get("token_ids"), JSON.readTree(again.out.strip()).get("token_ids"));
  }

  /**
   * The tiny model's greedy tokens with --async-scheduling as without: with a repetition penalty (a token fed to the
   * next step must count in the history the sampler penalizes) and 16-token steps (prompt chunks beside decodes).
   */
  @Test
  void asyncSchedulingGivesTheSameTokensWithPenaltiesAndChunkedPrompts() throws IOException {
    List<String> args = new ArrayList<>(List.of("generate", "--model", TestModels.tiny().toString(), "--device", "cpu",
        "--max-tokens", "24", "--temperature", "0", "--ignore-eos", "--max-model-len", "256",
        "--repetition-penalty", "1.5", "--max-num-batched-tokens", "16"));
    for (int i = 0; i < 4; i++) args.addAll(List.of("--prompt", "Prompt " + i + ": " + "tell me more, ".repeat(1 + 3 * i)));
    List<String> sync = new ArrayList<>(args), async = new ArrayList<>(args);
    sync.add("--no-async-scheduling");
    async.add("--async-scheduling");
    Run a = run(async.toArray(String[]::new));
    Run s = run(sync.toArray(String[]::new));
    assertEquals(0, a.exit, a.err);
    assertEquals(0, s.exit, s.err);
    String[] asyncLines = a.out.strip().split("\n"), syncLines = s.out.strip().split("\n");
    assertEquals(4, asyncLines.length, a.out);
    for (int i = 0; i < 4; i++) {
      assertEquals(JSON.readTree(syncLines[i]).get("token_ids"), JSON.readTree(asyncLines[i]).get("token_ids"),
          "prompt " + i);
      assertEquals(24, JSON.readTree(asyncLines[i]).get("token_ids").size());
    }
  }

  @Test
  void aModelWithShortPositionsRunsWithoutFlags(@TempDir Path dir) throws IOException {
    Path model = withMaxPositions(dir, 256);
    Run r = run("generate", "--model", model.toString(), "--device", "cpu", "--prompt", "hi", "--max-tokens", "4",
        "--temperature", "0", "--ignore-eos");
    assertEquals(0, r.exit, r.err);
    assertEquals(4, JSON.readTree(r.out.strip()).get("token_ids").size());
  }

  @Test
  void theDefaultLengthIsCappedByTheKvCache(@TempDir Path dir) throws IOException {
    // 2 layers x 2 KV heads x 16 dims x K and V in float32 = 512 bytes a token: 0.0001 GiB holds 13 blocks of 16,
    // 192 tokens of context (one block is the null block) -- fewer than the model's 256 positions.
    Path model = withMaxPositions(dir, 256);
    Run r = run("generate", "--model", model.toString(), "--device", "cpu", "--prompt", "hi", "--max-tokens", "300",
        "--temperature", "0", "--ignore-eos", "--kv-cache-space", "0.0001");
    assertEquals(2, r.exit, "300 tokens no longer fit the capped length: " + r.out + r.err);
    assertTrue(r.err.contains("192"), "the error states the capped context length: " + r.err);
  }

  private static Path withMaxPositions(Path dir, int positions) throws IOException {
    Path model = copy(TestModels.tiny(), dir.resolve("m"));
    Path config = model.resolve("config.json");
    Files.writeString(config, Files.readString(config)
        .replaceAll("\"max_position_embeddings\"\\s*:\\s*\\d+", "\"max_position_embeddings\": " + positions));
    return model;
  }

  @Test
  void truncatedWeightsAreOneLineNamingFileAndTensor(@TempDir Path dir) throws IOException {
    Path model = copy(TestModels.tiny(), dir.resolve("m"));
    Path weights = model.resolve("model.safetensors");
    try (var ch = Files.newByteChannel(weights, StandardOpenOption.WRITE)) {
      ch.truncate(Files.size(weights) / 2);
    }
    assertOneLineError(run("generate", "--model", model.toString(), "--device", "cpu", "--prompt", "hi"),
        "model.safetensors", "truncated");
  }

  @Test
  void wrongShapeNamesBothShapes(@TempDir Path dir) throws IOException {
    Path model = copy(TestModels.tiny(), dir.resolve("m"));
    Path config = model.resolve("config.json");
    Files.writeString(config, Files.readString(config).replaceAll("\"intermediate_size\"\\s*:\\s*176", "\"intermediate_size\": 180"));
    assertOneLineError(run("generate", "--model", model.toString(), "--device", "cpu", "--prompt", "hi"),
        "mlp.gate_proj.weight", "[176, 64]", "[180, 64]");
  }

  @Test
  void unknownArchitectureIsRefused(@TempDir Path dir) throws IOException {
    Path model = copy(TestModels.tiny(), dir.resolve("m"));
    Path config = model.resolve("config.json");
    Files.writeString(config, Files.readString(config).replace("Qwen2ForCausalLM", "MambaForCausalLM"));
    assertOneLineError(run("generate", "--model", model.toString(), "--device", "cpu", "--prompt", "hi"),
        "MambaForCausalLM");
  }

  @Test
  void bfloat16IsRefusedWithAReason() {
    assertOneLineError(run("generate", "--model", TestModels.tiny().toString(), "--device", "cpu", "--dtype",
        "bfloat16", "--prompt", "hi"), "bfloat16");
  }

  private static void assertOneLineError(Run r, String... mentions) {
    assertEquals(2, r.exit, r.err);
    String err = r.err.strip();
    assertFalse(err.contains("\n"), "one line expected, got:\n" + err);
    assertFalse(err.contains("Exception"), err);
    for (String m : mentions) assertTrue(err.contains(m), "'" + m + "' missing in: " + err);
  }

  private static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, to.resolve(f.getFileName()));
    }
    return to;
  }
}
