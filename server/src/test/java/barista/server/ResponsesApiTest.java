package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.scheduler.GenerationRequest;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** /v1/responses over the fake engine: the request as a chat prompt, the response and event shapes. */
class ResponsesApiTest {
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void instructionsAndInputBecomeTheChatPromptAndTheAnswerIsAMessageItem() throws Exception {
    server.engine.arrivals.clear();
    HttpResponse<String> r = server.post("/v1/responses", "{\"instructions\":\"Be brief\",\"input\":\"Hi\","
        + "\"max_output_tokens\":50,\"store\":false,\"metadata\":{\"k\":\"v\"}}");
    assertEquals(200, r.statusCode(), r.body());
    GenerationRequest g = server.engine.arrivals.poll(10, TimeUnit.SECONDS);
    StringBuilder prompt = new StringBuilder();
    for (int id : g.promptTokenIds()) prompt.append((char) id);
    assertEquals("system: Be brief\nuser: Hi\nassistant:", prompt.toString());
    assertEquals(50, g.params().maxTokens());
    JsonNode body = TestServer.json(r);
    assertTrue(body.get("id").asText().startsWith("resp_"));
    assertEquals("response", body.get("object").asText());
    assertEquals("completed", body.get("status").asText());
    assertEquals("Be brief", body.get("instructions").asText());
    JsonNode item = body.get("output").get(0);
    assertEquals("message", item.get("type").asText());
    assertEquals("Hello world", item.get("content").get(0).get("text").asText());
    assertEquals("output_text", item.get("content").get(0).get("type").asText());
    assertEquals(11, body.get("usage").get("output_tokens").asInt());
  }

  @Test
  void streamingSendsTheResponsesEventSequence() throws Exception {
    HttpResponse<String> r = server.post("/v1/responses", "{\"input\":\"Hi\",\"stream\":true}");
    assertEquals(200, r.statusCode(), r.body());
    List<JsonNode> events = new ArrayList<>();
    for (String e : r.body().split("\n\n")) {
      if (e.isBlank()) continue;
      assertTrue(e.startsWith("data: "), e);
      events.add(Json.MAPPER.readTree(e.substring(6)));
    }
    List<String> types = events.stream().map(e -> e.get("type").asText()).toList();
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added"), types.subList(0, 4));
    assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed"), types.subList(types.size() - 4, types.size()));
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < events.size(); i++) {
      assertEquals(i, events.get(i).get("sequence_number").asInt());
      if (types.get(i).equals("response.output_text.delta")) text.append(events.get(i).get("delta").asText());
    }
    assertEquals("Hello world", text.toString(), r.body());
    JsonNode completed = events.get(events.size() - 1).get("response");
    assertEquals("Hello world", completed.get("output").get(0).get("content").get(0).get("text").asText());
  }

  @Test
  void whatCannotBeHonouredIsRefusedByName() throws Exception {
    String[][] cases = {
        {"{\"input\":\"Hi\",\"previous_response_id\":\"resp_1\"}", "previous_response_id"},
        {"{\"input\":[{\"type\":\"input_image\"}]}", "input[0].type"},
        {"{\"input\":\"Hi\",\"tools\":[{\"type\":\"web_search\"}]}", "tools[0].type"},
        {"{}", "input"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = server.post("/v1/responses", c[0]);
      assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
      assertEquals(c[1], TestServer.json(r).get("error").get("param").asText(), r.body());
    }
  }
}
