package barista.engine.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's Jinja chat template, rendered with Jinjava the way transformers' apply_chat_template renders it with
 * Jinja2: trim_blocks and lstrip_blocks on, and a raise_exception(message) function for templates that reject a
 * conversation. One known difference stays: a boolean printed directly shows as true/false, not True/False.
 */
public final class ChatTemplate {

  private final String source;
  private final boolean knowsDeveloperRole;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  public ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = source;
    // A template that never names the role has no branch for it and drops such messages without a word.
    this.knowsDeveloperRole = source.contains("developer");
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PythonStringMethods());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
    this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        // Message text is data: never render what an expression outputs as template code again (with
        // nested interpretation a user's "{{ 7*7 }}" became "49", and any template code ran).
        .withNestedInterpretationEnabled(false)
        .withElResolver(resolver)
        .build());
    jinjava.registerFunction(new ELFunctionDefinition(
        "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    jinjava.getGlobalContext().registerFilter(new PythonJson());
  }

  /** Whether the template reads the request's tool definitions (a "tools" variable). */
  public boolean mentionsTools() {
    return source.contains("tools");
  }

  /** The template of a tokenizer's model, with its bos/eos tokens. */
  public static ChatTemplate of(Tokenizer tokenizer) {
    String source = tokenizer.chatTemplate()
        .orElseThrow(() -> new IllegalArgumentException("the model's tokenizer_config.json has no chat_template"));
    return new ChatTemplate(source, tokenizer.bosToken(), tokenizer.eosToken());
  }

  /**
   * Renders a conversation: messages are maps with "role" and "content" (content may be null, e.g. for an
   * assistant turn that only has "tool_calls"); extra holds further template variables (tools, ...). A
   * "developer" message (OpenAI's newer name for the system role) renders as "system" when the template knows no
   * developer role.
   */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
    Map<String, Object> variables = new HashMap<>(extra);
    variables.put("messages", knowsDeveloperRole ? messages : developerAsSystem(messages));
    variables.put("add_generation_prompt", addGenerationPrompt);
    variables.put("bos_token", bosToken);
    variables.put("eos_token", eosToken);
    RenderResult result = jinjava.renderForResult(source, variables);
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        Throwable root = rootCause(error);
        if (root instanceof Rejected) {
          throw new Rejected("chat template: " + root.getMessage());
        }
        throw new IllegalArgumentException("chat template: " + (root == null ? error.getMessage() : root.getMessage()));
      }
    }
    return result.getOutput();
  }

  private static List<Map<String, Object>> developerAsSystem(List<Map<String, Object>> messages) {
    List<Map<String, Object>> mapped = new ArrayList<>(messages.size());
    for (Map<String, Object> message : messages) {
      if ("developer".equals(message.get("role"))) {
        Map<String, Object> copy = new HashMap<>(message);
        copy.put("role", "system");
        mapped.add(copy);
      } else {
        mapped.add(message);
      }
    }
    return mapped;
  }

  /**
   * The template rejected the conversation on purpose, through raise_exception; any other fatal error while
   * rendering is a plain IllegalArgumentException. Both are the client's 400, but tests tell them apart.
   */
  public static final class Rejected extends IllegalArgumentException {
    Rejected(String message) {
      super(message);
    }
  }

  /** The innermost cause (raise_exception's, not Jinjava's "Error invoking function" wrapper), or null. */
  private static Throwable rootCause(TemplateError error) {
    Throwable cause = error.getException();
    while (cause != null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** Jinja global of transformers' chat templates; Jinjava reports the exception as a fatal template error. */
  public static String raiseException(String message) {
    throw new Rejected(message);
  }
}
