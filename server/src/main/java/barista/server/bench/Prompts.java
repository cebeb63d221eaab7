package barista.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** The prompts of a run: random ones of a given length, the lines of a dataset file, or a preset's. */
final class Prompts {
  /**
   * Random token ids are drawn below this: in byte-level BPE vocabularies (Qwen2, GPT-2) the first 256 ids are the
   * single-byte tokens, so they are valid for any such model without knowing its vocabulary.
   */
  static final int RANDOM_TOKEN_IDS = 256;
  /** Common English words, about one token each with their leading space, for random chat text. */
  private static final String[] WORDS = ("the of and to in is it that for on with as was at by be this from or have "
      + "not are but an they which one you were all we can her has there been if more when will would who so no")
      .split(" ");

  private Prompts() {}

  /**
   * {@code count} prompts of {@code inputLen} random tokens, as token ids (exact length) for completions or as text
   * of about that many tokens for chat, which takes no token ids.
   */
  static List<BenchPrompt> random(int count, int inputLen, int maxTokens, boolean asText, long seed) {
    Random random = new Random(seed);
    List<BenchPrompt> prompts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (asText) {
        StringBuilder text = new StringBuilder();
        for (int t = 0; t < inputLen; t++) {
          if (t > 0) text.append(' ');
          text.append(WORDS[random.nextInt(WORDS.length)]);
        }
        prompts.add(BenchPrompt.text(text.toString(), maxTokens));
      } else {
        prompts.add(BenchPrompt.tokens(random.ints(inputLen, 0, RANDOM_TOKEN_IDS).toArray(), maxTokens));
      }
    }
    return prompts;
  }

  /**
   * The lines of a JSON-lines file, each {"prompt": "...", "max_tokens": n} (max_tokens optional, else
   * {@code defaultMaxTokens}); {@code count} null takes every line once, a larger count cycles through them.
   */
  static List<BenchPrompt> dataset(Path file, Integer count, int defaultMaxTokens) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    List<BenchPrompt> lines = new ArrayList<>();
    int number = 0;
    for (String line : Files.readAllLines(file)) {
      number++;
      if (line.isBlank()) continue;
      JsonNode node;
      try {
        node = mapper.readTree(line);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(file + " line " + number + ": not JSON: " + e.getOriginalMessage());
      }
      JsonNode prompt = node.get("prompt");
      if (prompt == null || !prompt.isTextual()) {
        throw new IllegalArgumentException(file + " line " + number + ": no \"prompt\" string");
      }
      JsonNode maxTokens = node.get("max_tokens");
      if (maxTokens != null && !maxTokens.canConvertToInt()) {
        throw new IllegalArgumentException(file + " line " + number + ": \"max_tokens\" is not an integer");
      }
      lines.add(BenchPrompt.text(prompt.asText(), maxTokens == null ? defaultMaxTokens : maxTokens.asInt()));
    }
    if (lines.isEmpty()) throw new IllegalArgumentException(file + " has no prompts");
    if (count == null) return lines;
    List<BenchPrompt> prompts = new ArrayList<>();
    for (int i = 0; i < count; i++) prompts.add(lines.get(i % lines.size()));
    return prompts;
  }

  /** The same text {@code count} times. */
  static List<BenchPrompt> repeated(String text, int count, int maxTokens) {
    return Collections.nCopies(count, BenchPrompt.text(text, maxTokens));
  }
}
