package barista.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/** The id <-> token table of a tokenizer.json: the BPE model's vocab plus the added tokens after it. */
final class Vocabulary {

  private final String[] tokens;
  private final boolean[] added;
  private final boolean[] special;
  private final Map<String, Integer> ids;
  private final boolean hasDecoder;

  private Vocabulary(String[] tokens, boolean[] added, boolean[] special, Map<String, Integer> ids,
      boolean hasDecoder) {
    this.tokens = tokens;
    this.added = added;
    this.special = special;
    this.ids = ids;
    this.hasDecoder = hasDecoder;
  }

  static Vocabulary read(Path tokenizerJson) throws IOException {
    JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
    JsonNode vocab = root.path("model").path("vocab");
    JsonNode addedTokens = root.path("added_tokens");
    if (!vocab.isObject()) {
      throw new IllegalArgumentException(tokenizerJson + ": model.vocab is missing or not an object");
    }
    Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
    for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      ids.put(entry.getKey(), entry.getValue().asInt());
    }
    for (JsonNode token : addedTokens) {
      ids.put(token.get("content").asText(), token.get("id").asInt());
    }
    int size = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    String[] tokens = new String[size];
    ids.forEach((token, id) -> tokens[id] = token);
    boolean[] added = new boolean[size];
    boolean[] special = new boolean[size];
    for (JsonNode token : addedTokens) {
      int id = token.get("id").asInt();
      added[id] = true;
      special[id] = token.path("special").asBoolean(false);
    }
    JsonNode decoder = root.path("decoder");
    return new Vocabulary(tokens, added, special, ids, !decoder.isMissingNode() && !decoder.isNull());
  }

  /** Number of distinct ids, added tokens included (Hugging Face's len(tokenizer)). */
  int size() {
    return ids.size();
  }

  Integer id(String token) {
    return ids.get(token);
  }

  /** Whether the id is an added token (special or not): text the BPE never produces from bytes. */
  boolean isAdded(int id) {
    return id >= 0 && id < added.length && added[id];
  }

  /** The added tokens' strings (special or not), in id order. */
  java.util.List<String> addedTokens() {
    java.util.List<String> list = new java.util.ArrayList<>();
    for (int id = 0; id < added.length; id++) if (added[id] && tokens[id] != null) list.add(tokens[id]);
    return list;
  }

  /** Whether some token has this id (ids may have gaps). */
  boolean has(int id) {
    return id >= 0 && id < tokens.length && tokens[id] != null;
  }

  boolean isSpecial(int id) {
    return id >= 0 && id < special.length && special[id];
  }

  /**
   * Whether tokenizer.json has a decoder. Without one, Hugging Face's decode joins the token strings with spaces
   * and maps no bytes (a WordLevel vocabulary, say).
   */
  boolean hasDecoder() {
    return hasDecoder;
  }

  /**
   * The raw bytes a token stands for: byte-level tokens through GPT-2's table, added tokens (and every token when
   * there is no decoder) as UTF-8.
   */
  byte[] bytes(int id) {
    if (id < 0 || id >= tokens.length || tokens[id] == null) {
      throw new IllegalArgumentException("token id " + id + " is not in the vocabulary");
    }
    byte[] bytes = added[id] || !hasDecoder ? null : ByteLevel.decode(tokens[id]);
    return bytes != null ? bytes : tokens[id].getBytes(StandardCharsets.UTF_8);
  }
}
