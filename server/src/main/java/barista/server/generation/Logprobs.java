package barista.server.generation;

import barista.engine.sampling.PromptLogprobs;
import barista.scheduler.TokenLogprob;
import barista.server.model.ServedModel;
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

  /**
   * vLLM's prompt_logprobs: one entry per prompt token, the first null (nothing precedes it), each a map from token
   * id to {logprob, rank, decoded_token} holding the prompt token and the k most likely there (as vLLM's
   * serving layer writes them).
   */
  static ArrayNode prompt(PromptLogprobs p, ServedModel model) {
    ArrayNode list = Json.MAPPER.createArrayNode();
    for (int i = 0; i < p.numPrompt(); i++) {
      if (p.topIds(i) == null) { // the first token; or a row never computed, which a bug would leave
        list.addNull();
        continue;
      }
      ObjectNode entry = list.addObject();
      promptEntry(entry, p.token(i), p.logprob(i), p.rank(i), model);
      int[] ids = p.topIds(i);
      for (int t = 0; t < ids.length; t++) {
        if (!entry.has(Integer.toString(ids[t]))) promptEntry(entry, ids[t], p.topLogprobs(i)[t], t + 1, model);
      }
    }
    return list;
  }

  private static void promptEntry(ObjectNode entry, int tokenId, float logprob, int rank, ServedModel model) {
    ObjectNode e = entry.putObject(Integer.toString(tokenId));
    e.put("logprob", finite(logprob));
    e.put("rank", rank);
    e.put("decoded_token", model.tokenText(tokenId));
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

    /**
     * Appends the prompt's tokens (echo with logprobs), the first with null logprobs as OpenAI's legacy API had it;
     * returns the text offset after the last one.
     */
    int appendPrompt(PromptLogprobs p, int textOffset) {
      for (int i = 0; i < p.numPrompt(); i++) {
        String text = model.tokenText(p.token(i));
        tokens.add(text);
        if (p.topIds(i) == null) {
          tokenLogprobs.addNull();
          topLogprobs.addNull();
        } else {
          tokenLogprobs.add(finite(p.logprob(i)));
          ObjectNode top = Json.object();
          top.put(text, finite(p.logprob(i)));
          int[] ids = p.topIds(i);
          for (int t = 0; t < ids.length; t++) top.put(model.tokenText(ids[t]), finite(p.topLogprobs(i)[t]));
          topLogprobs.add(top);
        }
        textOffsets.add(textOffset);
        textOffset += text.length();
      }
      return textOffset;
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
