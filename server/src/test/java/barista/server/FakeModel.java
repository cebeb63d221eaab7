package barista.server;

import barista.engine.sampling.SamplingParams;
import barista.server.model.ChatMessage;
import barista.server.model.ServedModel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** A model whose tokens are characters (id = char code); its chat template writes "role: content" lines. */
final class FakeModel implements ServedModel {
  static final int VOCAB = 0x10000;

  private final List<String> names;
  private final int maxModelLen;

  FakeModel(List<String> names, int maxModelLen) {
    this.names = names;
    this.maxModelLen = maxModelLen;
  }

  @Override
  public List<String> servedNames() {
    return names;
  }

  @Override
  public int maxModelLen() {
    return maxModelLen;
  }

  @Override
  public int vocabSize() {
    return VOCAB;
  }

  /** As the engine reports a model on the CPU. */
  @Override
  public Map<String, String> facts() {
    return Map.of("dtype", "float32");
  }

  @Override
  public int[] encode(String text, boolean addSpecialTokens) {
    return text.chars().toArray();
  }

  @Override
  public String decode(int[] tokenIds, boolean skipSpecialTokens) {
    StringBuilder text = new StringBuilder();
    for (int id : tokenIds) text.append((char) id);
    return text.toString();
  }

  /** A token whose text lookup fails, to provoke a server bug in the middle of a stream. */
  static final char BROKEN_TOKEN = '\u2603';

  @Override
  public String tokenText(int tokenId) {
    if (tokenId == BROKEN_TOKEN) throw new IllegalStateException("broken token");
    return String.valueOf((char) tokenId);
  }

  @Override
  public byte[] tokenBytes(int tokenId) {
    return tokenText(tokenId).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs) {
    StringBuilder prompt = new StringBuilder();
    for (ChatMessage m : messages) {
      if ("reject me".equals(m.content())) throw new IllegalArgumentException("conversation roles must alternate");
      prompt.append(m.role()).append(": ").append(m.content()).append('\n');
    }
    if (addGenerationPrompt) prompt.append("assistant:");
    return prompt.toString();
  }

  /** Tools show as one line of their names, so tests can see they reached the template. */
  @Override
  public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs,
      List<Map<String, Object>> tools) {
    String prompt = renderChat(messages, addGenerationPrompt, kwargs);
    if (tools == null) return prompt;
    StringBuilder names = new StringBuilder("tools:");
    for (Map<String, Object> tool : tools) names.append(' ').append(((Map<?, ?>) tool.get("function")).get("name"));
    return names + "\n" + prompt;
  }

  @Override
  public SamplingParams defaultSamplingParams() {
    return SamplingParams.builder().temperature(0.6).topP(0.95).build();
  }
}
