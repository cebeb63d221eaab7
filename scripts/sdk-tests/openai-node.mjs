// The official OpenAI Node SDK, unchanged, against a running barista server:
//   node openai-node.mjs http://127.0.0.1:8000/v1     (or OPENAI_BASE_URL)
// Runs models, chat and completions, streamed and whole, and a bad request; prints one line per check and exits
// non-zero on the first failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.argv[2] ?? process.env.OPENAI_BASE_URL;
if (!baseURL) {
  console.error('usage: node openai-node.mjs BASE_URL (e.g. http://127.0.0.1:8000/v1)');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY ?? 'unused', maxRetries: 0 });

const models = await client.models.list();
const model = models.data[0].id;
console.log(`models: ${models.data.map((m) => m.id).join(',')}`);

const messages = [{ role: 'user', content: 'Hello there' }];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0 });
assert.match(chat.id, /^chatcmpl-/);
assert.ok(chat.usage.completion_tokens >= 1 && chat.usage.completion_tokens <= 16, JSON.stringify(chat.usage));
const content = chat.choices[0].message.content ?? '';
console.log(`chat: finish_reason=${chat.choices[0].finish_reason} completion_tokens=${chat.usage.completion_tokens}`);

let chunks = 0;
let streamed = '';
let usage = null;
const stream = await client.chat.completions.create({
  model, messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  chunks++;
  streamed += chunk.choices[0]?.delta?.content ?? '';
  if (chunk.usage) usage = chunk.usage;
}
assert.equal(streamed, content);
// cached_tokens may differ: the repeated prompt hits the prefix cache.
for (const count of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.equal(usage[count], chat.usage[count]);
console.log(`chat stream: chunks=${chunks} same_text=true same_usage=true`);

const completion = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0 });
assert.match(completion.id, /^cmpl-/);
let streamedText = '';
for await (const chunk of await client.completions.create({
  model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, stream: true,
})) {
  streamedText += chunk.choices[0]?.text ?? '';
}
assert.equal(streamedText, completion.choices[0].text);
console.log(`completions: completion_tokens=${completion.usage.completion_tokens} stream_same_text=true`);

// Structured output: only the constraint makes the random demo model's output valid.
const json = await client.chat.completions.create({
  model, messages, max_tokens: 100, seed: 1, response_format: { type: 'json_object' },
});
assert.equal(json.choices[0].finish_reason, 'stop');
assert.equal(typeof JSON.parse(json.choices[0].message.content), 'object');
const schema = { type: 'object', properties: { name: { type: 'string', maxLength: 10 }, ok: { type: 'boolean' } },
  required: ['name', 'ok'], additionalProperties: false };
const typed = await client.chat.completions.create({
  model, messages, max_tokens: 100, seed: 2,
  response_format: { type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } },
});
const thing = JSON.parse(typed.choices[0].message.content);
assert.deepEqual(Object.keys(thing), ['name', 'ok']);
assert.ok(typeof thing.name === 'string' && thing.name.length <= 10 && typeof thing.ok === 'boolean');
console.log('structured output: json_object and json_schema valid');

// tool_choice required, streamed: accumulate the tool-call deltas as the SDK's users do.
const tools = [{ type: 'function', function: { name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 } }, required: ['city'] } } }];
const calls = [];
let toolFinish = null;
for await (const chunk of await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Weather?' }], max_tokens: 60, seed: 3, tools, tool_choice: 'required',
  stream: true,
})) {
  for (const d of chunk.choices[0]?.delta?.tool_calls ?? []) {
    if (!calls[d.index]) calls[d.index] = { id: d.id, name: d.function.name, arguments: '' };
    calls[d.index].arguments += d.function.arguments ?? '';
  }
  toolFinish = chunk.choices[0]?.finish_reason ?? toolFinish;
}
assert.equal(toolFinish, 'tool_calls');
assert.ok(calls.length >= 1 && calls[0].id.startsWith('call_') && calls[0].name === 'get_weather');
assert.equal(typeof JSON.parse(calls[0].arguments).city, 'string');
console.log(`tool calls: required streamed calls=${calls.length}`);

// The Responses API: create (text, a JSON schema format, a forced function tool) and the SDK's stream helper.
const created = await client.responses.create({
  model, instructions: 'Be brief.', input: 'Hello there', max_output_tokens: 16, temperature: 0,
});
assert.match(created.id, /^resp_/);
assert.equal(created.object, 'response');
assert.ok(['completed', 'incomplete'].includes(created.status), created.status);
assert.equal(created.output[0].type, 'message');
assert.equal(created.output_text, created.output[0].content[0].text);
assert.ok(created.usage.output_tokens >= 1 && created.usage.output_tokens <= 16, JSON.stringify(created.usage));
const formatted = await client.responses.create({
  model, input: [{ role: 'user', content: [{ type: 'input_text', text: 'A thing' }] }], max_output_tokens: 100,
  seed: 2, text: { format: { type: 'json_schema', name: 'thing', schema, strict: true } },
});
assert.equal(formatted.status, 'completed', JSON.stringify(formatted));
const formattedThing = JSON.parse(formatted.output_text);
assert.deepEqual(Object.keys(formattedThing), ['name', 'ok']);
const called = await client.responses.create({
  model, input: 'Weather?', max_output_tokens: 50, seed: 3, tool_choice: 'required',
  tools: [{ type: 'function', name: 'get_weather', parameters: tools[0].function.parameters }],
});
const fc = called.output.find((item) => item.type === 'function_call');
assert.ok(fc && fc.name === 'get_weather' && fc.call_id.startsWith('call_'), JSON.stringify(called.output));
assert.equal(typeof JSON.parse(fc.arguments).city, 'string');
const types = [];
let deltas = '';
const rstream = client.responses.stream({ model, instructions: 'Be brief.', input: 'Hello there', max_output_tokens: 16, temperature: 0 });
for await (const event of rstream) {
  types.push(event.type);
  if (event.type === 'response.output_text.delta') deltas += event.delta;
}
const final = await rstream.finalResponse();
assert.equal(types[0], 'response.created');
assert.equal(types[types.length - 1], 'response.completed');
assert.ok(types.includes('response.output_item.added') && types.includes('response.content_part.added'), types);
// finalResponse() adds no output_text without a text format: read the message item as the stream built it.
const finalText = final.output.filter((item) => item.type === 'message').flatMap((item) => item.content)
  .map((part) => part.text).join('');
assert.equal(finalText, deltas);
assert.equal(deltas, created.output_text, 'streamed and whole greedy answers agree');
console.log(`responses: create, json_schema, function_call, stream events=${types.length}`);

try {
  await client.chat.completions.create({ model, messages, max_tokens: 100000 });
  assert.fail('a request over the context limit must fail');
} catch (e) {
  assert.ok(e instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${e?.constructor?.name}: ${e}`);
  console.log(`bad request: ${e.constructor.name} status=${e.status}`);
}
try {
  await client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 4 });
  assert.fail('an unknown model must fail');
} catch (e) {
  assert.ok(e instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${e?.constructor?.name}: ${e}`);
  console.log(`unknown model: ${e.constructor.name} status=${e.status}`);
}
console.log('openai-node: all checks passed');
