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
import org.junit.jupiter.api.AfterAll;

/**
 * Random conversations through the model's chat template and tokenizer (the tiny model's: DeepSeek-R1's template,
 * a byte-level BPE). Properties: the template either renders or rejects with IllegalArgumentException; user text
 * and the (last) system text appear verbatim in the prompt, never run as template code; every token id is in the
 * vocabulary; and decoding the ids gives the prompt back, in Unicode NFC (the tokenizer's normalizer, as in Qwen2's).
 */
class ChatTemplateFuzzTest {
  private static final String[] ROLES = {"system", "user", "assistant", "tool"};
  private static Tokenizer tokenizer;
  private static ChatTemplate template;

  @FuzzTest(maxDuration = "60s")
  @DictionaryEntries({"{{", "}}", "{%", "%}", "{#", "</think>", "<think>", "<｜User｜>", "<｜Assistant｜>",
      "<｜end▁of▁sentence｜>", "<｜begin▁of▁sentence｜>", "\\n", "\\u0000", "raise_exception"})
  void renderEncodeDecodeRoundTrips(FuzzedDataProvider data) throws IOException {
    List<Map<String, Object>> messages = new ArrayList<>();
    int count = data.consumeInt(1, 6);
    for (int i = 0; i < count; i++) {
      Map<String, Object> message = new HashMap<>();
      message.put("role", data.pickValue(ROLES));
      message.put("content", wellFormed(data.consumeString(200)));
      messages.add(message);
    }
    String prompt;
    try {
      prompt = template().render(messages, data.consumeBoolean(), Map.of());
    } catch (IllegalArgumentException rejected) {
      return; // the template's raise_exception: a 400 for the client
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
    }
    return template;
  }

  @AfterAll
  static void close() {
    if (tokenizer != null) tokenizer.close();
  }
}
