package barista.server;

import barista.config.ServeOptions;
import barista.engine.constraint.TokenVocabulary;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.ChatTemplate;
import barista.engine.tokenizer.Tokenizer;
import barista.server.model.ChatMessage;
import barista.server.model.ServedModel;
import barista.server.wiring.ServeWiring;
import barista.server.wiring.ServingEngine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The real {@link ServedModelLoader}: starts the engines as {@link ServeWiring} builds them from the options, and
 * shows the served model to the HTTP layer through the engine's tokenizer, chat templates and model facts.
 */
public final class EngineModelLoader implements ServedModelLoader {

  @Override
  public Loaded load(ServeOptions o) throws Exception {
    ServeWiring.Started started = ServeWiring.start(o);
    return new Loaded(started.client(),
        new Model(started.model(), started.servedNames(), started.samplingDefaults()), started.resources());
  }

  /** The served model seen through the engine's tokenizer and chat template. */
  private record Model(ServingEngine engine, List<String> servedNames, SamplingParams defaults) implements ServedModel {
    @Override
    public int maxModelLen() {
      return engine.facts().maxModelLen();
    }

    @Override
    public int vocabSize() {
      return engine.facts().vocabSize();
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
      Tokenizer t = engine.tokenizer();
      int[] ids = t.encode(text);
      if (!addSpecialTokens || t.bosId() < 0 || (ids.length > 0 && ids[0] == t.bosId())) return ids;
      int[] withBos = new int[ids.length + 1];
      withBos[0] = t.bosId();
      System.arraycopy(ids, 0, withBos, 1, ids.length);
      return withBos;
    }

    @Override
    public String decode(int[] tokenIds, boolean skipSpecialTokens) {
      return engine.tokenizer().decode(tokenIds, skipSpecialTokens);
    }

    @Override
    public List<String> addedTokens() {
      return engine.tokenizer().addedTokens();
    }

    @Override
    public int[] encodePlain(String text) {
      return engine.tokenizer().encodePlain(text);
    }

    @Override
    public String tokenText(int tokenId) {
      return new String(tokenBytes(tokenId), StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int tokenId) {
      Tokenizer t = engine.tokenizer();
      return tokenId >= 0 && tokenId < t.vocabSize() ? t.tokenBytes(tokenId) : new byte[0];
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs) {
      return renderChat(messages, addGenerationPrompt, kwargs, null);
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs,
        List<Map<String, Object>> tools) {
      ServingEngine.ChatTemplates templates = engine.chatTemplates();
      ChatTemplate template = templates.chat();
      if (template == null) {
        throw new IllegalArgumentException("the model has no chat template; pass --chat-template or use /v1/completions");
      }
      Map<String, Object> variables = kwargs;
      if (tools != null) {
        template = templates.forTools();
        if (template == null || !template.mentionsTools()) {
          throw new IllegalArgumentException("the chat template does not show tools to the model; pass a "
              + "tool-aware --chat-template");
        }
        variables = new HashMap<>(kwargs);
        variables.put("tools", tools);
      }
      List<Map<String, Object>> list = new ArrayList<>();
      for (ChatMessage m : messages) list.add(m.toTemplateMap());
      return template.render(list, addGenerationPrompt, variables);
    }

    @Override
    public TokenVocabulary constraintVocabulary() {
      return engine.constraintVocabulary();
    }

    @Override
    public SamplingParams defaultSamplingParams() {
      return defaults;
    }

    @Override
    public Map<String, String> facts() {
      return engine.facts().forStatusPage();
    }
  }
}
