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

  private Tokenizer(HuggingFaceTokenizer hf, Vocabulary vocabulary, String bosToken, String eosToken,
                    String chatTemplate) {
    this.hf = hf;
    this.vocabulary = vocabulary;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.chatTemplate = chatTemplate;
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
