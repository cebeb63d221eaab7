package barista.server.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * --escape-special-tokens-in-content: the added-token strings inside message content (every role but the
 * assistant's, whose history may hold the model's own {@code </think>}) reach the model as plain text, never as the
 * tokens, so text a user typed cannot close its turn or open a tool call. Each such string is replaced by a marker
 * before the chat template runs (a per-request nonce in private-use characters, which a user cannot guess), and
 * the rendered prompt is tokenized between markers as usual and at each marker as plain text. Without the flag, or
 * when no content holds such a string, the prompt is tokenized whole, exactly as vLLM does.
 */
public final class SpecialTokenEscape {
  private static final java.security.SecureRandom NONCES = new java.security.SecureRandom();

  private final ServedModel model;
  private final List<ChatMessage> messages;
  private final Pattern markers; // null: nothing was escaped
  private final List<String> escaped;

  private SpecialTokenEscape(ServedModel model, List<ChatMessage> messages, Pattern markers, List<String> escaped) {
    this.model = model;
    this.messages = messages;
    this.markers = markers;
    this.escaped = escaped;
  }

  /** The messages to render, escaped when the server runs with the flag ({@code escape}). */
  public static SpecialTokenEscape of(ServedModel model, List<ChatMessage> messages, boolean escape) {
    return escape ? of(model, messages) : new SpecialTokenEscape(model, messages, null, List.of());
  }

  static SpecialTokenEscape of(ServedModel model, List<ChatMessage> messages) {
    Pattern special = specialStrings(model.addedTokens());
    if (special == null) return new SpecialTokenEscape(model, messages, null, List.of());
    String nonce = "\uE000" + Long.toHexString(NONCES.nextLong()) + ":";
    List<String> escaped = new ArrayList<>();
    List<ChatMessage> out = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      if (m.content() == null || "assistant".equals(m.role())) {
        out.add(m);
        continue;
      }
      Matcher found = special.matcher(m.content());
      StringBuilder text = new StringBuilder();
      int from = 0;
      while (found.find()) {
        text.append(m.content(), from, found.start()).append(nonce).append(escaped.size()).append('\uE001');
        escaped.add(found.group());
        from = found.end();
      }
      if (from == 0) {
        out.add(m);
        continue;
      }
      text.append(m.content(), from, m.content().length());
      out.add(new ChatMessage(m.role(), text.toString(), m.toolCalls(), m.toolCallId()));
    }
    if (escaped.isEmpty()) return new SpecialTokenEscape(model, messages, null, List.of());
    return new SpecialTokenEscape(model, out, Pattern.compile(Pattern.quote(nonce) + "(\\d+)\uE001"), escaped);
  }

  /** The pattern of one tokenizer's added-token strings, the longest first where several start at one place. */
  private record Special(List<String> tokens, Pattern pattern) {}

  private static volatile Special lastSpecial; // one served model: made once

  private static Pattern specialStrings(List<String> added) {
    Special known = lastSpecial;
    if (known != null && known.tokens() == added) return known.pattern();
    List<String> tokens = new ArrayList<>(added);
    tokens.removeIf(String::isEmpty);
    Pattern pattern = null;
    if (!tokens.isEmpty()) {
      tokens.sort(Comparator.comparingInt(String::length).reversed());
      StringBuilder alternatives = new StringBuilder();
      for (String token : tokens) {
        alternatives.append(alternatives.length() == 0 ? "" : "|").append(Pattern.quote(token));
      }
      pattern = Pattern.compile(alternatives.toString());
    }
    lastSpecial = new Special(added, pattern);
    return pattern;
  }

  /** The messages for the chat template. */
  public List<ChatMessage> messages() {
    return messages;
  }

  /** The rendered prompt's tokens, each escaped string among them as plain text. */
  public int[] encode(String rendered, boolean addSpecialTokens) {
    if (markers == null) return model.encode(rendered, addSpecialTokens);
    List<int[]> pieces = new ArrayList<>();
    java.util.Map<String, int[]> plain = new java.util.HashMap<>(); // a few distinct strings, maybe many times
    Matcher marker = markers.matcher(rendered);
    int from = 0;
    boolean first = true;
    while (marker.find()) {
      if (marker.start() > from || first) pieces.add(model.encode(rendered.substring(from, marker.start()),
          first && addSpecialTokens));
      first = false;
      int index = Integer.parseInt(marker.group(1));
      // A marker the template copied from elsewhere than a content we escaped cannot occur: the nonce is ours.
      pieces.add(plain.computeIfAbsent(escaped.get(index), model::encodePlain));
      from = marker.end();
    }
    pieces.add(model.encode(rendered.substring(from), first && addSpecialTokens));
    return pieces.stream().flatMapToInt(IntStream::of).toArray();
  }
}
