package barista.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A model's tokenizer: tokenizer.json run by Hugging Face's tokenizers library (through DJL), plus the facts of
 * tokenizer_config.json (bos/eos tokens, chat template). Encoding adds no BOS/EOS: the chat template writes them.
 */
public final class Tokenizer implements AutoCloseable {

  // DJL truncates to 512 tokens and pads by default; a serving tokenizer must do neither.
  private static final Map<String, String> OPTIONS =
      Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

  private final HuggingFaceTokenizer hf;
  private final Vocabulary vocabulary;
  private final String bosToken;
  private final String eosToken;
  private final String chatTemplate;
  private final java.util.List<String> addedTokens;

  private Tokenizer(HuggingFaceTokenizer hf, Vocabulary vocabulary, String bosToken, String eosToken,
                    String chatTemplate) {
    this.hf = hf;
    this.vocabulary = vocabulary;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.chatTemplate = chatTemplate;
    this.addedTokens = java.util.List.copyOf(vocabulary.addedTokens());
  }

  /** Loads tokenizer.json and tokenizer_config.json (and chat_template.jinja, if the config has no template). */
  public static Tokenizer load(Path modelDir) throws IOException {
    Path tokenizerJson = modelDir.resolve("tokenizer.json");
    Path configJson = modelDir.resolve("tokenizer_config.json");
    for (Path required : new Path[] {tokenizerJson, configJson}) {
      if (!Files.isRegularFile(required)) {
        throw new IllegalArgumentException("missing tokenizer file " + required);
      }
    }
    JsonNode config = new ObjectMapper().readTree(configJson.toFile());
    Vocabulary vocabulary = Vocabulary.read(tokenizerJson);
    String bos = tokenString(config, "bos_token", configJson);
    String eos = tokenString(config, "eos_token", configJson);
    if (eos == null) {
      throw new IllegalArgumentException(configJson + ": eos_token is missing");
    }
    for (String token : new String[] {bos, eos}) {
      if (token != null && vocabulary.id(token) == null) {
        throw new IllegalArgumentException(configJson + ": token '" + token + "' is not in " + tokenizerJson);
      }
    }
    String template = chatTemplate(config, modelDir.resolve("chat_template.jinja"));
    HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(tokenizerJson, OPTIONS);
    return new Tokenizer(hf, vocabulary, bos, eos, template);
  }

  public int[] encode(String text) {
    long[] ids = hf.encode(text, false, false).getIds();
    return Arrays.stream(ids).mapToInt(id -> (int) id).toArray();
  }

  /** The added tokens' strings (special or not: {@code <｜User｜>}, {@code <think>}), in id order. */
  public java.util.List<String> addedTokens() {
    return addedTokens;
  }

  /**
   * The tokens of {@code text} read as plain text: an added token's string inside it becomes the BPE tokens of its
   * characters, never the added token. Hugging Face's tokenizer splits added tokens out of whatever it encodes, so
   * the text is encoded in pieces cut one character into each such string (a piece then holds none of them whole);
   * an added token of one character becomes its byte-level tokens.
   */
  public int[] encodePlain(String text) {
    java.util.List<String> added = addedTokens();
    int[] next = new int[added.size()]; // where each added token next occurs, from where the scan is
    for (int k = 0; k < next.length; k++) next[k] = added.get(k).isEmpty() ? -1 : text.indexOf(added.get(k));
    java.util.List<int[]> pieces = new java.util.ArrayList<>();
    int from = 0;
    while (from < text.length()) {
      int at = -1;
      String found = null;
      for (int k = 0; k < next.length; k++) {
        if (next[k] >= 0 && next[k] < from) next[k] = text.indexOf(added.get(k), from);
        String token = added.get(k);
        if (next[k] >= 0 && (at < 0 || next[k] < at || (next[k] == at && token.length() > found.length()))) {
          at = next[k];
          found = token;
        }
      }
      if (at < 0) {
        pieces.add(encode(text.substring(from)));
        break;
      }
      int cut = at + Character.charCount(text.codePointAt(at));
      if (cut < at + found.length()) {
        pieces.add(encode(text.substring(from, cut)));
      } else { // a one-character added token: its UTF-8 bytes as byte-level tokens, where the vocabulary has them
        if (at > from) pieces.add(encode(text.substring(from, at)));
        pieces.add(byteTokens(found));
      }
      from = cut;
    }
    return pieces.stream().flatMapToInt(IntStream::of).toArray();
  }

  private int[] byteTokens(String character) {
    byte[] bytes = character.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int[] ids = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      Integer id = vocabulary.id(ByteLevel.encode(new byte[] {bytes[i]}));
      if (id == null || vocabulary.isAdded(id)) return encode(character); // no byte tokens: as the tokenizer reads it
      ids[i] = id;
    }
    return ids;
  }

  public String decode(int[] ids, boolean skipSpecialTokens) {
    return hf.decode(Arrays.stream(ids).asLongStream().toArray(), skipSpecialTokens);
  }

  /** Number of token ids, added tokens included (the embedding matrix may be larger). */
  public int vocabSize() {
    return vocabulary.size();
  }

  /** False for a tokenizer.json without a decoder: its text is the tokens joined with spaces, as in Hugging Face. */
  public boolean hasDecoder() {
    return vocabulary.hasDecoder();
  }

  public boolean isSpecial(int id) {
    return vocabulary.isSpecial(id);
  }

  /** The id of a token string (a vocabulary entry or added token), or null if there is none. */
  public Integer tokenId(String token) {
    return vocabulary.id(token);
  }

  /**
   * Per id below {@code maskSize}, the bytes of the regular (BPE) tokens, null for added tokens and unused ids: what
   * structured-output constraints may choose from.
   */
  public byte[][] regularTokenBytes(int maskSize) {
    byte[][] bytes = new byte[maskSize][];
    for (int id = 0; id < maskSize; id++) {
      if (vocabulary.has(id) && !vocabulary.isAdded(id)) bytes[id] = vocabulary.bytes(id);
    }
    return bytes;
  }

  /** The raw bytes a token stands for; pieces of one UTF-8 character may be spread over several tokens. */
  public byte[] tokenBytes(int id) {
    return vocabulary.bytes(id);
  }

  /** The BOS token string, or null if the model has none. */
  public String bosToken() {
    return bosToken;
  }

  /** The BOS token id, or -1 if the model has none. */
  public int bosId() {
    return bosToken == null ? -1 : vocabulary.id(bosToken);
  }

  public String eosToken() {
    return eosToken;
  }

  public int eosId() {
    return vocabulary.id(eosToken);
  }

  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  @Override
  public void close() {
    hf.close();
  }

  /** bos_token / eos_token are written either as a plain string or as an AddedToken object {"content": ...}. */
  private static String tokenString(JsonNode config, String field, Path configJson) {
    JsonNode node = config.path(field);
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.path("content").isTextual()) {
      return node.get("content").asText();
    }
    throw new IllegalArgumentException(configJson + ": " + field + " is neither a string nor {\"content\": ...}");
  }

  /**
   * chat_template is a string, or a list of {name, template} of which "default" is the chat one; transformers 4.43+
   * may instead save it beside the config as chat_template.jinja.
   */
  private static String chatTemplate(JsonNode config, Path jinjaFile) throws IOException {
    JsonNode template = config.path("chat_template");
    if (template.isTextual()) {
      return template.asText();
    }
    for (JsonNode named : template) {
      if ("default".equals(named.path("name").asText())) {
        return named.path("template").asText();
      }
    }
    return Files.isRegularFile(jinjaFile) ? Files.readString(jinjaFile) : null;
  }
}
