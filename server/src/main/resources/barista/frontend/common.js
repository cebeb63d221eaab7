'use strict';
// Shared by the playground and the status page: API calls with the optional Bearer key. The key lives in
// sessionStorage, which belongs to this tab alone and is gone when the tab closes; it is never written elsewhere.
const Barista = (() => {
  const KEY = 'barista-api-key';

  function apiKey() {
    return sessionStorage.getItem(KEY) || '';
  }

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    const key = apiKey();
    if (key) h.Authorization = 'Bearer ' + key;
    return h;
  }

  // Shows the key form (the server answered 401) and calls retry once a key is entered.
  function askForKey(retry) {
    const form = document.getElementById('key-form');
    if (!form) return;
    form.hidden = false;
    const input = document.getElementById('api-key');
    input.focus();
    form.onsubmit = (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY, input.value.trim());
      input.value = '';
      form.hidden = true;
      retry();
    };
  }

  // The error message of an OpenAI error body, or the status line.
  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return response.status + ': ' + body.error.message;
    } catch (ignored) {
      // not JSON
    }
    return response.status + ' ' + response.statusText;
  }

  function fetchApi(path, options) {
    const o = Object.assign({}, options || {});
    o.headers = headers(o.headers);
    return fetch(path, o);
  }

  // Replaces an element's children with text (never HTML).
  function setText(element, text) {
    element.textContent = text;
  }

  return { fetchApi, askForKey, errorText, setText };
})();
