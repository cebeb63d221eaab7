package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptsTest {
  @TempDir
  Path dir;

  @Test
  void randomTokenPromptsHaveTheExactLengthAndFollowTheSeed() {
    List<BenchPrompt> prompts = Prompts.random(3, 16, 8, false, 7);
    assertEquals(3, prompts.size());
    for (BenchPrompt p : prompts) {
      assertNull(p.text());
      assertEquals(16, p.tokenIds().length);
      assertEquals(8, p.maxTokens());
      for (int id : p.tokenIds()) assertTrue(id >= 0 && id < Prompts.RANDOM_TOKEN_IDS, "id " + id);
    }
    assertArrayEquals(prompts.get(2).tokenIds(), Prompts.random(3, 16, 8, false, 7).get(2).tokenIds());
  }

  @Test
  void randomTextPromptsHaveOneWordPerToken() {
    BenchPrompt prompt = Prompts.random(1, 10, 4, true, 0).get(0);
    assertEquals(10, prompt.text().split(" ").length);
    assertNull(prompt.tokenIds());
  }

  @Test
  void datasetLinesWithOptionalMaxTokens() throws IOException {
    Path file = Files.writeString(dir.resolve("d.jsonl"), "{\"prompt\": \"hi\", \"max_tokens\": 5}\n\n{\"prompt\": \"yo\"}\n");
    List<BenchPrompt> all = Prompts.dataset(file, null, 64);
    assertEquals(List.of("hi", "yo"), all.stream().map(BenchPrompt::text).toList());
    assertEquals(List.of(5, 64), all.stream().map(BenchPrompt::maxTokens).toList());
    assertEquals(List.of("hi", "yo", "hi"), Prompts.dataset(file, 3, 64).stream().map(BenchPrompt::text).toList());
  }

  @Test
  void badDatasetLineNamesFileAndLine() throws IOException {
    Path file = Files.writeString(dir.resolve("bad.jsonl"), "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt\"}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prompts.dataset(file, null, 8));
    assertEquals(file + " line 2: no \"prompt\" string", e.getMessage());
  }
}
