package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAI chat model, unchanged, against the real server: JSON, a JSON schema, ToolChoice.REQUIRED. */
class LangChain4jTest {
  private static RealServer server;
  private static OpenAiChatModel model;

  @BeforeAll
  static void start() throws Exception {
    server = RealServer.start("--served-model-name", "barista-tiny", "--max-model-len", "1024");
    model = OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey("unused").modelName("barista-tiny")
        .maxTokens(100).seed(4).strictJsonSchema(true).strictTools(true).maxRetries(0).build();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void responseFormatJsonGivesAJsonObject() throws Exception {
    ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Reply in JSON"))
        .responseFormat(ResponseFormat.JSON).build());
    assertTrue(RealServer.JSON.readTree(r.aiMessage().text()).isObject(), r.aiMessage().text());
  }

  @Test
  void jsonSchemaResponseFormatGivesValidJson() throws Exception {
    JsonSchema schema = JsonSchema.builder().name("Person").rootElement(JsonObjectSchema.builder()
        .addStringProperty("name").addIntegerProperty("age").addBooleanProperty("member")
        .required("name", "age", "member").build()).build();
    ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Who?"))
        .responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(schema).build()).build());
    JsonNode person = RealServer.JSON.readTree(r.aiMessage().text());
    assertTrue(person.get("name").isTextual() && person.get("age").isIntegralNumber()
        && person.get("member").isBoolean(), person.toString());
  }

  @Test
  void toolChoiceRequiredGivesAToolExecutionRequest() throws Exception {
    ToolSpecification weather = ToolSpecification.builder().name("get_weather").description("Weather of a city")
        .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
    ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Weather?"))
        .toolSpecifications(List.of(weather)).toolChoice(ToolChoice.REQUIRED).build());
    List<ToolExecutionRequest> calls = r.aiMessage().toolExecutionRequests();
    assertFalse(calls.isEmpty(), r.toString());
    assertEquals("get_weather", calls.get(0).name());
    assertTrue(calls.get(0).id().startsWith("call_"));
    assertTrue(RealServer.JSON.readTree(calls.get(0).arguments()).get("city").isTextual(), calls.get(0).arguments());
  }
}
