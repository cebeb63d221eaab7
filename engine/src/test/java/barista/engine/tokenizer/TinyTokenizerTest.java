package barista.engine.tokenizer;

import barista.engine.tools.TokenizerFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tiny byte-level BPE that synthetic checkpoints use. */
class TinyTokenizerTest {

  @TempDir
  static Path dir;
  static int vocabSize;
  static Tokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    vocabSize = TokenizerFiles.writeTiny(dir);
    tokenizer = Tokenizer.load(dir);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void endsWithR1DistillsAddedTokens() throws IOException {
    JsonNode reference;
    try (InputStream in = getClass().getResourceAsStream("/barista/r1-distill/tokenizer_config.json")) {
      reference = new ObjectMapper().readTree(in).get("added_tokens_decoder");
    }
    int firstAdded = vocabSize - reference.size();

    assertTrue(vocabSize <= 512, "tiny vocab has " + vocabSize + " tokens");
    assertTrue(firstAdded > 256 + 100, "expected a few hundred merges, vocab has " + firstAdded + " regular tokens");
    assertEquals(vocabSize, tokenizer.vocabSize());
    int offset = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = reference.fields(); it.hasNext(); offset++) {
      JsonNode token = it.next().getValue();
      int id = firstAdded + offset;
      assertEquals(id, tokenizer.tokenId(token.get("content").asText()), token.get("content").asText());
      assertEquals(token.get("special").asBoolean(), tokenizer.isSpecial(id), token.get("content").asText());
    }
    assertEquals(firstAdded + 3, tokenizer.bosId());
    assertEquals(firstAdded, tokenizer.eosId());
    assertTrue(tokenizer.chatTemplate().orElseThrow().endsWith("{{'<｜Assistant｜><think>\\n'}}{% endif %}"));
  }

  @Test
  void readsAddedTokenObjectsAndASeparateTemplateFile(@TempDir Path other) throws IOException {
    TokenizerFiles.writeTiny(other);
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = (ObjectNode) json.readTree(other.resolve("tokenizer_config.json").toFile());
    String bos = config.get("bos_token").asText();
    config.putObject("bos_token").put("__type", "AddedToken").put("content", bos);
    config.remove("chat_template"); // as transformers 4.43+ saves it: chat_template.jinja beside the config
    json.writeValue(other.resolve("tokenizer_config.json").toFile(), config);
    Files.writeString(other.resolve("chat_template.jinja"), "{{ bos_token }}");

    try (Tokenizer loaded = Tokenizer.load(other)) {
      assertEquals(tokenizer.bosId(), loaded.bosId());
      assertEquals("{{ bos_token }}", loaded.chatTemplate().orElseThrow());
    }
  }

  @Test
  void isDeterministic(@TempDir Path again) throws IOException {
    TokenizerFiles.writeTiny(again);

    assertArrayEquals(Files.readAllBytes(dir.resolve("tokenizer.json")),
        Files.readAllBytes(again.resolve("tokenizer.json")));
    assertArrayEquals(Files.readAllBytes(dir.resolve("tokenizer_config.json")),
        Files.readAllBytes(again.resolve("tokenizer_config.json")));
  }

  @Test
  void mergesShortenCommonText() {
    String text = "The answer is that the language model thinks step by step.";

    assertTrue(tokenizer.encode(text).length < text.length() / 2, "merges should apply to common English");
  }

  @Test
  void encodesAddedTokensInsideText() {
    int[] ids = tokenizer.encode("<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜>");

    assertEquals(tokenizer.bosId(), ids[0]);
    assertEquals(tokenizer.tokenId("<｜User｜>"), ids[1]);
    assertEquals(tokenizer.tokenId("<｜Assistant｜>"), ids[ids.length - 1]);
    assertEquals("<｜User｜>hi<｜Assistant｜>", tokenizer.decode(ids, true));
  }

  @Test
  void roundTripsArbitraryUtf8() {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      StringBuilder text = new StringBuilder();
      for (int i = random.nextInt(40); i > 0; i--) {
        int codePoint = random.nextInt(4) == 0 ? random.nextInt(0x80) : random.nextInt(0x10FFFF + 1);
        if (Character.getType(codePoint) != Character.SURROGATE) {
          text.appendCodePoint(codePoint);
        }
      }
      String expected = Normalizer.normalize(text, Normalizer.Form.NFC); // tokenizer.json normalizes to NFC

      assertEquals(expected, tokenizer.decode(tokenizer.encode(text.toString()), false), "round " + round);
    }
  }

  @Test
  void incrementalDetokenizerHoldsSplitCharacters() {
    String text = "你好，世界！🤖👍🏽 é <think>ok</think><｜end▁of▁sentence｜>";
    int[] ids = tokenizer.encode(text);
    long partialTokens = Arrays.stream(ids)
        .filter(id -> new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8).contains("\uFFFD")).count();
    assertTrue(partialTokens > 10, "the sample should split characters across tokens");

    for (boolean skip : new boolean[] {true, false}) {
      IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, skip);
      StringBuilder streamed = new StringBuilder();
      for (int id : ids) {
        String piece = detokenizer.add(id);
        assertFalse(piece.contains("\uFFFD"), "split character released early: " + piece);
        streamed.append(piece);
      }
      assertEquals("", detokenizer.flush());
      assertEquals(tokenizer.decode(ids, skip), streamed.toString());
      assertEquals(streamed.toString(), detokenizer.text());
    }
  }

  @Test
  void incrementalDetokenizerReleasesInvalidBytesLikeDecode() {
    byte[] bytes = {(byte) 0x80, 'a', (byte) 0xE4, (byte) 0xB8, 'b', (byte) 0xF0, (byte) 0x9F};
    int[] ids = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      ids[i] = tokenizer.tokenId(ByteLevel.encode(new byte[] {bytes[i]}));
    }
    IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, true);
    StringBuilder streamed = new StringBuilder();
    for (int id : ids) {
      streamed.append(detokenizer.add(id));
    }

    assertEquals("\uFFFDa\uFFFDb", streamed.toString(), "the dangling F0 9F is held back");
    streamed.append(detokenizer.flush());
    assertEquals(tokenizer.decode(ids, true), streamed.toString());
  }
}
