package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's AiServices as its users write them: a POJO (record) return type, so every turn carries a json_schema
 * response_format, and a @Tool the first turn is forced to call (tool_choice required beside that format). The tool
 * call and the final answer are validated by networknt's JSON schema validator against schemas written here.
 */
class LangChain4jAiServicesTest {
  /** The answer's type: AiServices derives its JSON schema and sends it as response_format. */
  record Person(String name, int age, boolean member) {}

  interface Agent {
    Person describe(String text);
  }

  /** The tool the first turn must call. */
  static final class Registry {
    final List<String> cities = new ArrayList<>();

    @Tool("Records the city a person lives in")
    public String recordCity(@P(name = "city", value = "the city") String city) {
      cities.add(city);
      return "recorded";
    }
  }

  /** Forces a tool call on a turn that has no tool result yet (the first), as an agent's first step would. */
  static final class FirstTurnCallsATool implements ChatModel {
    final ChatModel delegate;
    final List<ChatRequest> requests = new ArrayList<>();
    final List<ChatResponse> responses = new ArrayList<>();

    FirstTurnCallsATool(ChatModel delegate) {
      this.delegate = delegate;
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
      boolean answered = request.messages().stream().anyMatch(m -> m instanceof ToolExecutionResultMessage);
      ChatRequest sent = answered ? request : request.toBuilder().parameters(request.parameters()
          .overrideWith(ChatRequestParameters.builder().toolChoice(ToolChoice.REQUIRED).build())).build();
      requests.add(sent);
      ChatResponse response = delegate.chat(sent);
      responses.add(response);
      return response;
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
      return delegate.defaultRequestParameters();
    }

    @Override
    public Set<Capability> supportedCapabilities() {
      return delegate.supportedCapabilities();
    }
  }

  @Test
  void aPojoReturnAndAForcedToolTurnBothComeBackValid() throws Exception {
    try (RealServer server = RealServer.start("--served-model-name", "barista-tiny", "--max-model-len", "2048",
        "--enable-auto-tool-choice", "--tool-call-parser", "deepseek_v3")) {
      OpenAiChatModel openAi = OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey("unused")
          .modelName("barista-tiny").maxTokens(120).seed(5).strictJsonSchema(true).strictTools(true).maxRetries(0)
          .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).build();
      FirstTurnCallsATool model = new FirstTurnCallsATool(openAi);
      Registry registry = new Registry();
      Agent agent = AiServices.builder(Agent.class).chatModel(model).tools(registry).build();

      Person person = agent.describe("Describe someone from Lyon.");

      assertNotNull(person);
      assertEquals(2, model.requests.size(), "one forced tool turn, then the answer");
      ChatRequest first = model.requests.get(0);
      assertEquals(ToolChoice.REQUIRED, first.parameters().toolChoice());
      assertNotNull(first.parameters().responseFormat(), "AiServices sends the POJO's schema on the tool turn too");
      assertEquals(1, registry.cities.size(), "the tool ran once");
      String arguments = model.responses.get(0).aiMessage().toolExecutionRequests().get(0).arguments();
      valid("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}",
          arguments);
      valid("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"},"
          + "\"member\":{\"type\":\"boolean\"}},\"required\":[\"name\",\"age\",\"member\"]}",
          model.responses.get(1).aiMessage().text());
    }
  }

  private static void valid(String schema, String json) throws Exception {
    Set<ValidationMessage> errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(schema).validate(RealServer.JSON.readTree(json));
    assertTrue(errors.isEmpty(), json + ": " + errors);
  }
}
