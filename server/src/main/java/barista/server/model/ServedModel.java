package barista.server.model;

import barista.engine.sampling.SamplingParams;
import java.util.List;
import java.util.Map;

/** What the HTTP layer needs of the served model: its names and limits, its tokenizer and its chat template. */
public interface ServedModel {

  /** Names a request may give as "model"; the first is the one reported. Never empty. */
  List<String> servedNames();

  /** Context length: prompt plus completion tokens. */
  int maxModelLen();

  /** Token ids must be in [0, vocabSize). */
  int vocabSize();

  int[] encode(String text, boolean addSpecialTokens);

  String decode(int[] tokenIds, boolean skipSpecialTokens);

  /** The tokenizer's added tokens' strings (special or not), which {@link #encode} reads as those tokens. */
  default List<String> addedTokens() {
    return List.of();
  }

  /** The tokens of text read as plain text: an added token's string inside it is not read as that token. */
  default int[] encodePlain(String text) {
    return encode(text, false);
  }

  /** One token as text, for logprobs (a byte-level piece that is not whole UTF-8 may read as replacement chars). */
  String tokenText(int tokenId);

  /** One token's raw UTF-8 bytes, for the "bytes" field of chat logprobs. */
  byte[] tokenBytes(int tokenId);

  /**
   * Applies the chat template. Throws IllegalArgumentException with a one-line reason when the template rejects
   * the conversation (e.g. roles that do not alternate).
   */
  String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> templateKwargs);

  /**
   * Applies the chat template with the request's tool definitions ({@code tools} null: none). A template that does
   * not read tools gets the model family's tool-aware template instead, unless --chat-template chose it; a model
   * with neither: IllegalArgumentException.
   */
  default String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt,
      Map<String, Object> templateKwargs, List<Map<String, Object>> tools) {
    if (tools != null) throw new IllegalArgumentException("this model's chat template cannot show tools");
    return renderChat(messages, addGenerationPrompt, templateKwargs);
  }

  /** The tokens structured-output constraints choose from, or null when this model cannot constrain decoding. */
  default barista.engine.constraint.TokenVocabulary constraintVocabulary() {
    return null;
  }

  /** What the status page shows of the model (architecture, device, dtype, ...), by name; empty when unknown. */
  default Map<String, String> facts() {
    return Map.of();
  }

  /** Defaults for the sampling fields a request omits (the model's generation_config under --generation-config auto). */
  SamplingParams defaultSamplingParams();
}
