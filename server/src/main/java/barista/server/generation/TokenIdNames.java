package barista.server.generation;

import barista.engine.sampling.SamplingParams;
import barista.server.model.ChatMessage;
import barista.server.model.ServedModel;
import java.util.List;
import java.util.Map;

/** The served model with tokens named "token_id:N" in logprobs, as vLLM's return_tokens_as_token_ids names them. */
final class TokenIdNames implements ServedModel {
  private final ServedModel model;

  TokenIdNames(ServedModel model) {
    this.model = model;
  }

  @Override
  public String tokenText(int tokenId) {
    return "token_id:" + tokenId;
  }

  @Override
  public List<String> servedNames() {
    return model.servedNames();
  }

  @Override
  public int maxModelLen() {
    return model.maxModelLen();
  }

  @Override
  public int vocabSize() {
    return model.vocabSize();
  }

  @Override
  public int[] encode(String text, boolean addSpecialTokens) {
    return model.encode(text, addSpecialTokens);
  }

  @Override
  public String decode(int[] tokenIds, boolean skipSpecialTokens) {
    return model.decode(tokenIds, skipSpecialTokens);
  }

  @Override
  public byte[] tokenBytes(int tokenId) {
    return model.tokenBytes(tokenId);
  }

  @Override
  public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs) {
    return model.renderChat(messages, addGenerationPrompt, kwargs);
  }

  @Override
  public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs,
      List<Map<String, Object>> tools) {
    return model.renderChat(messages, addGenerationPrompt, kwargs, tools);
  }

  @Override
  public barista.engine.constraint.TokenVocabulary constraintVocabulary() {
    return model.constraintVocabulary();
  }

  @Override
  public SamplingParams defaultSamplingParams() {
    return model.defaultSamplingParams();
  }
}
