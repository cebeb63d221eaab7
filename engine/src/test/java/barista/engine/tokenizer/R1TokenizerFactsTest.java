package barista.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.tools.TokenizerFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The R1-Distill tokenizer we build (Qwen2's BPE with R1-Distill's added tokens) against facts published outside this
 * repository, never against a file our code wrote: the model card's example encoding; the model's published
 * tokenizer_config.json (fixtures/published/, a verbatim copy: added token ids, strings, special flags, bos/eos, the
 * chat template); the published sizes of Qwen2's BPE (151,643 tokens, 151,387 merges); and what follows from its
 * published design: byte-level BPE over GPT-2's byte-to-unicode table (ids 0-255 are the 256 bytes, printable ones
 * first, so "!" is 0 and "," is 11 as the example shows), numbers split into single digits, NFC normalization.
 */
class R1TokenizerFactsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dir;
  static Tokenizer tokenizer;
  static JsonNode published;

  @BeforeAll
  static void load() throws IOException {
    TokenizerFiles.writeR1Distill(dir);
    tokenizer = Tokenizer.load(dir);
    try (InputStream in = R1TokenizerFactsTest.class.getResourceAsStream(
        "/fixtures/published/r1-distill-qwen-1.5b.tokenizer_config.json")) {
      assertNotNull(in, "the published tokenizer_config.json copy is missing");
      published = JSON.readTree(in);
    }
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void encodesThePublishedExample() {
    assertArrayEquals(new int[] {151646, 151644, 9707, 11, 1879, 0, 151645},
        tokenizer.encode("<｜begin▁of▁sentence｜><｜User｜>Hello, world!<｜Assistant｜>"));
  }

  @Test
  void theExamplesPiecesEncodeAloneAsTheyDoInside() {
    assertArrayEquals(new int[] {9707, 11, 1879, 0}, tokenizer.encode("Hello, world!"));
    assertArrayEquals(new int[] {9707}, tokenizer.encode("Hello"));
    assertArrayEquals(new int[] {1879}, tokenizer.encode(" world"));
    assertEquals("Hello, world!", tokenizer.decode(new int[] {9707, 11, 1879, 0}, true));
  }

  @Test
  void everyPublishedAddedTokenHasItsIdStringAndSpecialFlag() {
    JsonNode decoder = published.get("added_tokens_decoder");
    assertEquals(22, decoder.size());
    for (Iterator<Map.Entry<String, JsonNode>> it = decoder.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      int id = Integer.parseInt(e.getKey());
      String content = e.getValue().get("content").asText();
      assertEquals(id, tokenizer.tokenId(content), content);
      assertEquals(e.getValue().get("special").asBoolean(), tokenizer.isSpecial(id), content + " special");
      assertArrayEquals(new int[] {id}, tokenizer.encode(content), content + " is one token in text");
      assertEquals(content, tokenizer.decode(new int[] {id}, false));
    }
    assertEquals(151643 + decoder.size(), tokenizer.vocabSize(), "the BPE's tokens, then the added ones");
  }

  @Test
  void bosEosAndTemplateAreThePublishedOnes() {
    assertEquals(published.get("bos_token").asText(), tokenizer.bosToken());
    assertEquals(published.get("eos_token").asText(), tokenizer.eosToken());
    assertEquals(151646, tokenizer.bosId());
    assertEquals(151643, tokenizer.eosId(), "generation_config.json's eos_token_id");
    assertEquals(published.get("chat_template").asText().strip(), tokenizer.chatTemplate().orElseThrow().strip());
  }

  @Test
  void theBpeHasQwen2sPublishedSize() throws IOException {
    JsonNode written = JSON.readTree(dir.resolve("tokenizer.json").toFile());
    assertEquals(151_643, written.path("model").path("vocab").size());
    assertEquals(151_387, written.path("model").path("merges").size());
  }

  @Test
  void asciiBytesAreTheFirstIdsInGpt2ByteOrder() {
    // bytes_to_unicode: printable bytes 33..126 come first (ids 0..93); bytes 0..32 follow the 188 printable ones.
    for (int b = 33; b <= 126; b++) {
      String s = String.valueOf((char) b);
      assertArrayEquals(new int[] {b - 33}, tokenizer.encode(s), "'" + s + "'");
    }
    assertArrayEquals(new int[] {188 + '\n'}, tokenizer.encode("\n"), "newline is 198");
    assertArrayEquals(new int[] {188 + '\t'}, tokenizer.encode("\t"));
    assertArrayEquals(new int[] {188 + ' '}, tokenizer.encode(" "), "space is 220");
  }

  @Test
  void numbersSplitIntoSingleDigits() {
    assertArrayEquals(new int[] {16, 17, 18, 19, 20, 21, 22, 23, 24, 15}, tokenizer.encode("1234567890"));
    int[] year = tokenizer.encode(" 2025");
    assertEquals(5, year.length, Arrays.toString(year));
    assertArrayEquals(new int[] {17, 15, 17, 20}, Arrays.copyOfRange(year, 1, 5));
  }

  @Test
  void textIsNormalizedToNfc() {
    assertArrayEquals(tokenizer.encode("café naïve"), tokenizer.encode("cafe\u0301 nai\u0308ve"));
  }

  @Test
  void theTemplatesToolMarkersAreTextNotAddedTokens() {
    for (String marker : new String[] {"<｜tool▁calls▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁outputs▁end｜>"}) {
      assertNull(tokenizer.tokenId(marker), marker);
      int[] ids = tokenizer.encode(marker);
      assertTrue(ids.length > 1 && Arrays.stream(ids).allMatch(id -> id < 151643), marker + Arrays.toString(ids));
      assertEquals(marker, tokenizer.decode(ids, true), "kept by skip_special_tokens");
    }
  }
}
