'use strict';
// The live status page: polls /status/data every second and draws the last two minutes on plain canvases.
// Token totals become rates here (the difference between two polls over the time between them).
(() => {
  const PERIOD_MS = 1000;
  const POINTS = 120;
  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
  const charts = {};
  let previous = null;

  // A chart of named series over time; fixedMax null scales to the data.
  function chart(id, fixedMax) {
    const figure = document.getElementById(id);
    return {figure, canvas: figure.querySelector('canvas'), legend: figure.querySelector('.legend'), fixedMax,
      series: new Map()};
  }

  function push(c, values) {
    for (const [name, value] of Object.entries(values)) {
      if (!c.series.has(name)) c.series.set(name, []);
      const points = c.series.get(name);
      points.push(value);
      if (points.length > POINTS) points.shift();
    }
    // The latest values, for scripts and tests that read the page.
    c.figure.dataset.values = JSON.stringify(values);
    draw(c);
  }

  function format(v) {
    if (Math.abs(v) >= 100 || Number.isInteger(v)) return Math.round(v).toString();
    return v.toFixed(1);
  }

  function draw(c) {
    const canvas = c.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    let max = c.fixedMax;
    if (max === null) {
      max = 1;
      for (const points of c.series.values()) for (const v of points) max = Math.max(max, v * 1.15);
    }
    const left = 44;
    const bottom = height - 16;
    const plotWidth = width - left - 6;
    g.strokeStyle = '#d4d4d8';
    g.fillStyle = '#71717a';
    g.font = '11px sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = 6 + (bottom - 6) * i / 4;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(width - 6, y);
      g.stroke();
      g.fillText(format(max * (4 - i) / 4), 2, y + 4);
    }
    g.fillText(POINTS + ' s', left, height - 3);
    g.fillText('now', width - 28, height - 3);
    c.legend.replaceChildren();
    let index = 0;
    for (const [name, points] of c.series) {
      const color = COLORS[index++ % COLORS.length];
      g.strokeStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      points.forEach((v, i) => {
        const x = left + plotWidth * (POINTS - points.length + i) / (POINTS - 1);
        const y = bottom - (bottom - 6) * Math.min(v, max) / max;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.style.borderColor = color;
      item.textContent = name + ': ' + format(points[points.length - 1]);
      c.legend.append(item);
    }
  }

  function showFacts(data) {
    const facts = document.getElementById('facts');
    const rows = Object.assign({}, data.model);
    rows.kv_cache_blocks = data.engine.kv_blocks_total;
    facts.replaceChildren();
    for (const [name, value] of Object.entries(rows)) {
      const dt = document.createElement('dt');
      dt.textContent = name.replace(/_/g, ' ');
      const dd = document.createElement('dd');
      dd.textContent = String(value);
      facts.append(dt, dd);
    }
  }

  function rate(now, before, field) {
    if (!before || now.time <= before.time) return 0;
    return Math.max(0, (now.tokens[field] - before.tokens[field]) / (now.time - before.time));
  }

  function update(data) {
    showFacts(data);
    push(charts.requests, {running: data.engine.running, waiting: data.engine.waiting});
    push(charts.kv, {used: 100 * data.engine.kv_cache_usage});
    push(charts.throughput, {prompt: rate(data, previous, 'prompt'), generation: rate(data, previous, 'generation')});
    push(charts.preemptions, {preemptions: data.engine.preemptions});
    const gpus = data.gpus || [];
    charts.gpuUtil.figure.hidden = gpus.length === 0;
    charts.gpuMemory.figure.hidden = gpus.length === 0;
    if (gpus.length > 0) {
      const util = {};
      const memory = {};
      for (const gpu of gpus) {
        util['gpu ' + gpu.index] = gpu.utilization;
        memory['gpu ' + gpu.index] = gpu.memory_used_mib;
      }
      charts.gpuMemory.fixedMax = Math.max(...gpus.map((gpu) => gpu.memory_total_mib));
      push(charts.gpuUtil, util);
      push(charts.gpuMemory, memory);
    }
    previous = data;
    Barista.setText(document.getElementById('updated'), 'updated ' + new Date().toLocaleTimeString());
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  }

  let paused = false;

  async function poll() {
    if (paused) return;
    try {
      const response = await Barista.fetchApi('/status/data');
      if (response.status === 401) {
        paused = true;
        Barista.askForKey(() => { paused = false; });
        return;
      }
      if (!response.ok) throw new Error(await Barista.errorText(response));
      update(await response.json());
      Barista.setText(document.getElementById('status-error'), '');
    } catch (e) {
      Barista.setText(document.getElementById('status-error'), 'Cannot read the status: ' + e.message);
    }
  }

  charts.requests = chart('chart-requests', null);
  charts.kv = chart('chart-kv', 100);
  charts.throughput = chart('chart-throughput', null);
  charts.preemptions = chart('chart-preemptions', null);
  charts.gpuUtil = chart('chart-gpu-util', 100);
  charts.gpuMemory = chart('chart-gpu-memory', null);
  poll();
  setInterval(poll, PERIOD_MS);
})();
