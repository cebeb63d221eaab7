package barista.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A tokenizer.json without a decoder (a WordLevel vocabulary as Hugging Face transformers saves it): Hugging Face's
 * decode joins the tokens with spaces. fixtures/no-decoder/decode.json holds that reference text, made by
 * scripts/make-no-decoder-fixture.mjs with Tokenizers.js (@huggingface/tokenizers, transformers.js' tokenizer).
 */
class NoDecoderTokenizerTest {

  @Test
  void decodeAndStreamingMatchHuggingFace() throws Exception {
    Path dir = Path.of(NoDecoderTokenizerTest.class.getResource("/fixtures/no-decoder").toURI());
    JsonNode cases = new ObjectMapper().readTree(dir.resolve("decode.json").toFile()).get("cases");
    assertTrue(cases.size() >= 10, "expected the reference cases in " + dir);
    try (Tokenizer tokenizer = Tokenizer.load(dir)) {
      for (JsonNode c : cases) {
        int[] ids = new ObjectMapper().convertValue(c.get("ids"), int[].class);
        boolean skip = c.get("skip_special_tokens").asBoolean();
        String expected = c.get("text").asText();
        String name = c.get("ids") + " skip_special_tokens=" + skip;
        assertEquals(expected, tokenizer.decode(ids, skip), "decode " + name);
        IncrementalDetokenizer stream = new IncrementalDetokenizer(tokenizer, skip);
        StringBuilder pieces = new StringBuilder();
        for (int id : ids) pieces.append(stream.add(id));
        pieces.append(stream.flush());
        assertEquals(expected, pieces.toString(), "streamed " + name);
      }
      assertArrayEquals("Ġx".getBytes(StandardCharsets.UTF_8), tokenizer.tokenBytes(513),
          "without a ByteLevel decoder a token is its own text");
    }
  }
}
