package barista.server.generation;

import barista.scheduler.TokenLogprob;
import barista.server.ServedModel;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Renders token logprobs in the chat shape and in the legacy completions shape. */
final class Logprobs {
  /** JSON has no -Infinity; vLLM reports impossible tokens as -9999.0 too. */
  private static final double FLOOR = -9999.0;

  private Logprobs() {}

  static double finite(float logprob) {
    return Float.isFinite(logprob) ? logprob : FLOOR;
  }

  /** Appends {token, logprob, bytes, top_logprobs[]} per token to a chat "content" array. */
  static void appendChat(ArrayNode content, List<TokenLogprob> logprobs, ServedModel model) {
    for (TokenLogprob lp : logprobs) {
      ObjectNode entry = chatToken(lp.tokenId(), lp.logprob(), model);
      ArrayNode top = entry.putArray("top_logprobs");
      for (int i = 0; i < lp.topTokenIds().length; i++) {
        top.add(chatToken(lp.topTokenIds()[i], lp.topLogprobs()[i], model));
      }
      content.add(entry);
    }
  }

  private static ObjectNode chatToken(int tokenId, float logprob, ServedModel model) {
    ObjectNode node = Json.object();
    node.put("token", model.tokenText(tokenId));
    node.put("logprob", finite(logprob));
    ArrayNode bytes = node.putArray("bytes");
    for (byte b : model.tokenBytes(tokenId)) bytes.add(b & 0xff);
    return node;
  }

  /** The completions shape {tokens, token_logprobs, top_logprobs, text_offset}, offsets counted from textOffset. */
  static final class Completion {
    private final ServedModel model;
    private final ObjectNode node = Json.object();
    private final ArrayNode tokens = node.putArray("tokens");
    private final ArrayNode tokenLogprobs = node.putArray("token_logprobs");
    private final ArrayNode topLogprobs = node.putArray("top_logprobs");
    private final ArrayNode textOffsets = node.putArray("text_offset");

    Completion(ServedModel model) {
      this.model = model;
    }

    /** Appends the tokens; returns the text offset after the last one. */
    int append(List<TokenLogprob> logprobs, int textOffset) {
      for (TokenLogprob lp : logprobs) {
        String text = model.tokenText(lp.tokenId());
        tokens.add(text);
        tokenLogprobs.add(finite(lp.logprob()));
        ObjectNode top = Json.object();
        top.put(text, finite(lp.logprob()));
        for (int i = 0; i < lp.topTokenIds().length; i++) {
          top.put(model.tokenText(lp.topTokenIds()[i]), finite(lp.topLogprobs()[i]));
        }
        topLogprobs.add(top);
        textOffsets.add(textOffset);
        textOffset += text.length();
      }
      return textOffset;
    }

    ObjectNode node() {
      return node;
    }
  }
}
