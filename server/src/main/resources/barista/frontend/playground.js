'use strict';
// The chat playground: streams /v1/chat/completions and shows the answer, its reasoning apart, and its timings.
// Everything the model or the user wrote goes into the page with textContent, never as HTML.
(() => {
  const $ = (id) => document.getElementById(id);
  const conversation = [];
  let running = null; // {controller, view} of the answer streaming now

  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function loadModels() {
    const select = $('model');
    let response;
    try {
      response = await Barista.fetchApi('/v1/models');
    } catch (e) {
      showSettingsError('Cannot reach the server: ' + e.message);
      return;
    }
    if (response.status === 401) {
      Barista.askForKey(loadModels);
      return;
    }
    if (!response.ok) {
      showSettingsError(await Barista.errorText(response));
      return;
    }
    const body = await response.json();
    select.replaceChildren();
    for (const model of body.data || []) select.append(new Option(model.id, model.id));
    document.body.dataset.ready = 'true';
  }

  function showSettingsError(text) {
    Barista.setText($('settings-error'), text);
  }

  function number(id, parse) {
    const raw = $(id).value.trim();
    if (raw === '') return undefined;
    const value = parse(raw);
    if (Number.isNaN(value)) throw new Error(id + ' is not a number: ' + raw);
    return value;
  }

  // The request body from the settings; throws Error with a message for the user.
  function requestBody(messages) {
    const body = {
      model: $('model').value,
      messages,
      stream: true,
      stream_options: {include_usage: true},
    };
    const temperature = number('temperature', parseFloat);
    const topP = number('top-p', parseFloat);
    const maxTokens = number('max-tokens', (s) => parseInt(s, 10));
    const seed = number('seed', (s) => parseInt(s, 10));
    if (temperature !== undefined) body.temperature = temperature;
    if (topP !== undefined) body.top_p = topP;
    if (maxTokens !== undefined) body.max_tokens = maxTokens;
    if (seed !== undefined) body.seed = seed;
    const format = $('response-format').value;
    if (format === 'json_object') body.response_format = {type: 'json_object'};
    if (format === 'json_schema') {
      let schema;
      try {
        schema = JSON.parse($('schema').value);
      } catch (e) {
        throw new Error('The JSON schema is not JSON: ' + e.message);
      }
      body.response_format = {type: 'json_schema', json_schema: {name: 'playground', schema}};
    }
    const extra = $('extra').value.trim();
    if (extra !== '') {
      let fields;
      try {
        fields = JSON.parse(extra);
      } catch (e) {
        throw new Error('The extra request fields are not JSON: ' + e.message);
      }
      if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
        throw new Error('The extra request fields must be a JSON object');
      }
      Object.assign(body, fields);
    }
    return body;
  }

  function addUserMessage(text) {
    const view = element('div', 'message user');
    view.append(element('div', 'role', 'You'), element('div', 'content', text));
    $('conversation').append(view);
  }

  function addAnswerView() {
    const view = element('div', 'message assistant');
    view.dataset.state = 'waiting';
    const reasoning = element('details', 'reasoning');
    reasoning.hidden = true;
    reasoning.open = true;
    reasoning.append(element('summary', '', 'Reasoning'), element('div', 'reasoning-text'));
    const content = element('div', 'content');
    const stats = element('div', 'stats');
    view.append(element('div', 'role', 'Assistant'), reasoning, content, stats);
    $('conversation').append(view);
    return {view, reasoning, reasoningText: reasoning.querySelector('.reasoning-text'), content, stats};
  }

  function scrollDown() {
    const c = $('conversation');
    c.scrollTop = c.scrollHeight;
  }

  // Splits an event stream into its data payloads as the bytes arrive.
  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        for (const line of event.split('\n')) {
          if (line.startsWith('data: ')) yield line.slice(6);
        }
      }
    }
  }

  function showStats(a, m) {
    const parts = [];
    if (m.firstToken) parts.push('TTFT ' + Math.round(m.firstToken - m.start) + ' ms');
    const tokens = m.usage ? m.usage.completion_tokens : m.chunks;
    if (m.firstToken && m.last > m.firstToken && tokens > 1) {
      parts.push(((tokens - 1) * 1000 / (m.last - m.firstToken)).toFixed(1) + ' tokens/s');
    }
    if (m.usage) {
      parts.push(m.usage.prompt_tokens + ' prompt tokens', m.usage.completion_tokens + ' completion tokens');
    } else {
      parts.push(m.chunks + ' chunks');
    }
    if (m.finish) parts.push('finish: ' + m.finish);
    Barista.setText(a.stats, parts.join(' · '));
  }

  async function send(text) {
    let body;
    const system = $('system').value.trim();
    const messages = (system ? [{role: 'system', content: system}] : []).concat(conversation,
        [{role: 'user', content: text}]);
    try {
      body = requestBody(messages);
    } catch (e) {
      showSettingsError(e.message);
      return;
    }
    showSettingsError('');
    conversation.push({role: 'user', content: text});
    addUserMessage(text);
    const a = addAnswerView();
    const controller = new AbortController();
    running = {controller, view: a};
    $('send').disabled = true;
    $('stop').disabled = false;
    const m = {start: performance.now(), firstToken: 0, last: 0, chunks: 0, usage: null, finish: null};
    let answer = '';
    let reasoning = '';
    try {
      const response = await Barista.fetchApi('/v1/chat/completions', {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (response.status === 401) {
        Barista.askForKey(() => {});
        throw new Error('This server needs an API key: enter it above and send again');
      }
      if (!response.ok) throw new Error(await Barista.errorText(response));
      a.view.dataset.state = 'streaming';
      for await (const data of events(response)) {
        if (data === '[DONE]') break;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message || 'error');
        if (chunk.usage) m.usage = chunk.usage;
        const choice = (chunk.choices || [])[0];
        if (!choice) continue;
        const delta = choice.delta || {};
        if (delta.reasoning_content) {
          reasoning += delta.reasoning_content;
          a.reasoning.hidden = false;
          Barista.setText(a.reasoningText, reasoning);
        }
        if (delta.content) {
          answer += delta.content;
          Barista.setText(a.content, answer);
        }
        if (delta.content || delta.reasoning_content) {
          m.chunks++;
          m.last = performance.now();
          if (!m.firstToken) m.firstToken = m.last;
        }
        if (choice.finish_reason) m.finish = choice.finish_reason;
        showStats(a, m);
        scrollDown();
      }
      a.view.dataset.state = 'done';
      if (reasoning) a.reasoning.open = false;
    } catch (e) {
      if (e.name === 'AbortError') {
        a.view.dataset.state = 'stopped';
        m.finish = 'stopped';
      } else {
        a.view.dataset.state = 'error';
        a.content.append(element('div', 'error', e.message));
      }
    } finally {
      showStats(a, m);
      if (answer) conversation.push({role: 'assistant', content: answer});
      running = null;
      $('send').disabled = false;
      $('stop').disabled = true;
    }
  }

  function stop() {
    // Closing the stream closes the connection: the server aborts the request and frees its KV blocks.
    if (running) running.controller.abort();
  }

  function init() {
    $('response-format').addEventListener('change', () => {
      $('schema-label').hidden = $('response-format').value !== 'json_schema';
    });
    $('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = $('prompt').value;
      if (running || text.trim() === '') return;
      $('prompt').value = '';
      send(text);
    });
    $('prompt').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    $('stop').addEventListener('click', stop);
    $('clear').addEventListener('click', () => {
      stop();
      conversation.length = 0;
      $('conversation').replaceChildren();
    });
    loadModels();
  }

  init();
})();
