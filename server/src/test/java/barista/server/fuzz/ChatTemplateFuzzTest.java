package barista.server.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.TestModels;
import barista.engine.tokenizer.ChatTemplate;
import barista.engine.tokenizer.Tokenizer;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Random conversations through the model's chat template and tokenizer (the tiny model's: DeepSeek-R1's template,
 * a byte-level BPE). Every generated conversation is well formed (each message a known role and a string content),
 * so it must render: a fatal render error fails the property, and so does a {@code raise_exception} refusal, which
 * is only acceptable from a template that calls it (R1's never does). Further properties: user text and the (last)
 * system text appear verbatim in the prompt, never run as template code; every token id is in the vocabulary; and
 * decoding the ids gives the prompt back, in Unicode NFC (the tokenizer's normalizer, as in Qwen2's).
 *
 * <p>The fuzz test replays only its seeds in {@code mvn test}; {@link #wellFormedConversationsRender} runs the same
 * property over a fixed set of generated conversations there, so a template that fails to render fails the build.
 */
class ChatTemplateFuzzTest {
  private static final String[] ROLES = {"system", "user", "assistant", "tool"};
  private static final String[] PIECES = {"{{", "}}", "{%", "%}", "{#", "</think>", "<think>", "<｜User｜>",
      "<｜Assistant｜>", "<｜end▁of▁sentence｜>", "<｜begin▁of▁sentence｜>", "\n", "\u0000", "raise_exception",
      "hello", " ", "\n", "é", "e\u0301", "中文", "🙂", "'", "\"", "{{ 7*7 }}", "None", "true"};
  private static Tokenizer tokenizer;
  private static ChatTemplate template;
  private static String templateSource;

  @FuzzTest(maxDuration = "60s")
  @DictionaryEntries({"{{", "}}", "{%", "%}", "{#", "</think>", "<think>", "<｜User｜>", "<｜Assistant｜>",
      "<｜end▁of▁sentence｜>", "<｜begin▁of▁sentence｜>", "\\n", "\\u0000", "raise_exception"})
  void renderEncodeDecodeRoundTrips(FuzzedDataProvider data) throws IOException {
    List<Map<String, Object>> messages = new ArrayList<>();
    int count = data.consumeInt(1, 6);
    for (int i = 0; i < count; i++) {
      messages.add(message(data.pickValue(ROLES), wellFormed(data.consumeString(200))));
    }
    assertRendersAndRoundTrips(messages, data.consumeBoolean());
  }

  @Test
  void wellFormedConversationsRender() throws IOException {
    SplittableRandom random = new SplittableRandom(15);
    for (int c = 0; c < 300; c++) {
      List<Map<String, Object>> messages = new ArrayList<>();
      int count = 1 + random.nextInt(6);
      for (int i = 0; i < count; i++) {
        StringBuilder content = new StringBuilder();
        for (int p = random.nextInt(6); p > 0; p--) content.append(PIECES[random.nextInt(PIECES.length)]);
        messages.add(message(ROLES[random.nextInt(ROLES.length)], content.toString()));
      }
      assertRendersAndRoundTrips(messages, random.nextBoolean());
    }
  }

  private static Map<String, Object> message(String role, String content) {
    Map<String, Object> message = new HashMap<>();
    message.put("role", role);
    message.put("content", content);
    return message;
  }

  private static void assertRendersAndRoundTrips(List<Map<String, Object>> messages, boolean addGenerationPrompt)
      throws IOException {
    String prompt;
    try {
      prompt = template().render(messages, addGenerationPrompt, Map.of());
    } catch (ChatTemplate.Rejected rejected) {
      // A deliberate refusal (the client's 400) is fine only from a template that can refuse.
      assertTrue(templateSource.contains("raise_exception"), () -> "a template without raise_exception rejected "
          + messages + ": " + rejected.getMessage());
      return;
    } catch (IllegalArgumentException renderFailure) {
      throw new AssertionError("a well-formed conversation failed to render: " + messages, renderFailure);
    }
    String system = null; // the template keeps the last system message only
    for (Map<String, Object> m : messages) {
      String content = (String) m.get("content");
      if (m.get("role").equals("system")) system = content;
      if (m.get("role").equals("user")) assertVerbatim(content, prompt);
    }
    if (system != null) assertVerbatim(system, prompt);
    int[] ids = tokenizer.encode(prompt);
    for (int id : ids) assertTrue(id >= 0 && id < tokenizer.vocabSize(), "token id " + id);
    // Added tokens are matched before NFC runs on the text between them, so "<｜Assistant｜>" followed by a
    // combining mark decodes uncomposed ("<｜Assistant｜>" + U+0338, not "...≯"), as Hugging Face's does: compare
    // both sides in NFC.
    assertEquals(Normalizer.normalize(prompt, Normalizer.Form.NFC),
        Normalizer.normalize(tokenizer.decode(ids, false), Normalizer.Form.NFC));
  }

  private static void assertVerbatim(String content, String prompt) {
    assertTrue(prompt.contains(content), () -> "content " + content + " is not verbatim in " + prompt);
  }

  /**
   * Java strings may hold lone surrogates that no UTF-8 text (no JSON body) can: the server receives only what
   * survives UTF-8, so the fuzzer's strings go through it too.
   */
  private static String wellFormed(String s) {
    return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
  }

  private static synchronized ChatTemplate template() throws IOException {
    if (template == null) {
      tokenizer = Tokenizer.load(TestModels.tiny());
      template = ChatTemplate.of(tokenizer);
      templateSource = tokenizer.chatTemplate().orElseThrow();
    }
    return template;
  }

  @AfterAll
  static void close() {
    if (tokenizer != null) tokenizer.close();
  }
}
