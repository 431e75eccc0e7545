// whydl playground page: controls -> WebSocket -> server; frames -> canvases.
// Plain JS, no libraries. Everything the server sends is drawn on canvases or written with
// textContent, never parsed as HTML.
"use strict";

(() => {
  // Okabe-Ito colours: class 0 orange, class 1 blue (negative / positive for weights).
  const ORANGE = [230, 159, 0];
  const BLUE = [0, 114, 178];
  const WHITE = [250, 250, 250];
  const CLASS_COLORS = ["#e69f00", "#0072b2", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000"];
  const CLASS_RGB = CLASS_COLORS.map(hexToRgb);
  const MENUS = {
    lr: [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
    batch_size: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 0],
    weight_decay: [0, 0.00001, 0.0001, 0.001, 0.01, 0.1, 1],
    dropout: [0, 0.1, 0.2, 0.3, 0.5, 0.7],
  };
  const NEW_LAYER_WIDTH = 4;
  // links made before the settings took the configs' names: old name -> [new name, value]
  const RENAMED = {
    n_points: ["n_samples", (v) => v],
    train_ratio: ["test_size", (v) => (typeof v === "number" ? Math.round((1 - v) * 1e6) / 1e6 : v)],
  };
  const BACKGROUND = 0.6;  // how strongly the boundary map is coloured, so points stand out

  const $ = (id) => document.getElementById(id);
  let options = null;     // bounds, choices, defaults from /api/options
  let settings = null;    // what the controls show (sent on every change)
  let accepted = null;    // the settings of the run the server has now
  let showTest = true;
  let showDisagreement = false;
  let warp = 0;           // the hidden layer whose warp of the plane is drawn; 0: none
  let neuronsSeen = true; // the neuron maps are on screen (else the server skips them)
  let discretize = false;  // the boundary as hard classes, as TensorFlow Playground's option
  const charts = new Map();  // canvas id -> what its hover read-out needs
  let ws = null;
  let run = 0;            // the server's run id: frames of older runs are ignored
  let ready = null;       // the 'ready' message of the current run
  let frame = null;       // the latest frame
  let drawPending = false;
  let pendingExport = null;
  let uploadName = null;
  // A/B: the compared setup (B) as the server runs it, and which setup the controls change
  let compare = null;       // B's settings as the controls show them
  let acceptedCompare = null;
  let compareWanted = null; // B from a link, sent once the tab's own setup is ready
  let editing = "a";
  // what both setups of a comparison share (the server enforces it): data, split, seeds
  const SHARED = ["dataset", "noise", "n_samples", "test_size", "data_seed", "seed", "n_seeds"];

  // ---- start ----------------------------------------------------------------------------
  async function init() {
    try {
      options = await (await fetch("/api/options")).json();
    } catch (e) {
      setState("closed");
      return showMessage("Could not reach the playground server. Is `whydl serve` running?");
    }
    buildControls();
    settings = readHash();
    syncControls();
    connect();
    window.addEventListener("resize", scheduleDraw);
    window.addEventListener("hashchange", () => {  // a link pasted into this tab
      settings = readHash();
      syncControls();
      configure();
      if (!compareWanted && acceptedCompare) send({ type: "compare", settings: null });  // A alone
    });
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${scheme}//${location.host}/ws`);
    ws.binaryType = "arraybuffer";
    setState("connecting");
    ws.onopen = () => {
      configure();
      sendView();
    };
    ws.onmessage = (event) => onMessage(event.data);
    ws.onclose = () => {
      const closed = "The connection to the playground server closed: reload the page to start again.";
      const shown = $("message").hidden ? "" : $("message-text").textContent + " ";
      setState("closed");
      showMessage(shown + closed);  // keep the server's last word (e.g. too many tabs)
      updateButtons();
    };
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  // what the frames must carry besides the boundary: the neuron maps only while on screen
  function sendView() {
    send({ type: "view", neurons: neuronsSeen && !document.hidden, warp });
  }

  function configure(csv) {
    const message = { type: "configure", settings: Object.assign({}, settings) };
    if (csv) message.csv = csv;
    send(message);
  }

  function onMessage(raw) {
    if (raw instanceof ArrayBuffer) return download(new Blob([raw]), "whydl-weights.pt");
    const m = JSON.parse(raw);
    if (m.type === "ready") {
      hideMessage();
      ready = m;
      run = m.run;
      frame = null;
      accepted = Object.assign({}, m.settings);
      settings = Object.assign({}, m.settings);
      acceptedCompare = m.compare ? Object.assign({}, m.compare.settings) : null;
      compare = acceptedCompare ? Object.assign({}, acceptedCompare) : null;
      if (!compare) editing = "a";
      if (compareWanted) {  // a link's B: asked for once A runs; its 'ready' comes next
        send({ type: "compare", settings: compareWanted });
        compareWanted = null;
      }
      showCompare();
      if (settings.dataset !== "csv") uploadName = null;
      syncControls();
      writeHash();
      setState("ready");
      describeData();
      scheduleDraw();
    } else if (m.type === "frame") {
      if (m.run !== run) return;
      m.curves = decodeCurves(m.curves);
      if (m.compare) m.compare.curves = decodeCurves(m.compare.curves);
      frame = m;
      if (m.diverged) showMessage("Training stopped: " + m.diverged);
      else if (m.done) showMessage("Training stopped at the playground's limit of 100,000 epochs.");
      scheduleDraw();
    } else if (m.type === "error") {
      showMessage(m.message);
      if (accepted) {  // the server kept the run it had: show its settings again
        settings = Object.assign({}, accepted);
        compare = acceptedCompare ? Object.assign({}, acceptedCompare) : null;
        syncControls();
      }
      if (ready) setState("ready");
      else setState("invalid");
    } else if (m.type === "export") {
      showExport(m.compare && editing === "b" ? m.compare : m);
    }
    updateButtons();
  }

  // ---- controls -------------------------------------------------------------------------
  function buildControls() {
    fillSelect($("optimizer"), options.choices.optimizer.map((v) => [v, optimizerName(v)]));
    fillSelect($("activation"), options.choices.activation.map((v) => [v, v === "relu" ? "ReLU" : capital(v)]));
    fillSelect($("lr"), MENUS.lr.map((v) => [v, String(v)]));
    fillSelect($("batch_size"), MENUS.batch_size.map((v) => [v, v === 0 ? "full batch" : String(v)]));
    fillSelect($("weight_decay"), MENUS.weight_decay.map((v) => [v, v === 0 ? "none" : String(v)]));
    fillSelect($("dropout"), MENUS.dropout.map((v) => [v, v === 0 ? "none" : String(v)]));
    const group = $("datasets");
    for (const name of options.choices.dataset.filter((d) => d !== "csv")) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.dataset = name;
      b.setAttribute("role", "radio");
      b.textContent = { xor: "XOR", plane: "Plane (regression)", multi_gaussian: "Multi-gaussian (regression)" }[name] || capital(name);
      b.addEventListener("click", () => change("dataset", name));
      group.appendChild(b);
    }
    const csvButton = document.createElement("button");
    csvButton.type = "button";
    csvButton.dataset.dataset = "csv";
    csvButton.setAttribute("role", "radio");
    csvButton.textContent = "your CSV";
    csvButton.addEventListener("click", () => $("csv-file").click());
    group.appendChild(csvButton);
    const features = $("features");
    for (const name of options.choices.features) {  // TensorFlow Playground's input toggles
      const label = document.createElement("label");
      label.className = "check feature";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.feature = name;
      box.addEventListener("change", () => {
        // the page's order, so a link names the same first layer whichever was ticked first
        const on = new Set(shown().features);
        if (box.checked) on.add(name); else on.delete(name);
        change("features", options.choices.features.filter((n) => on.has(n)));
      });
      label.append(box, document.createTextNode(" " + options.feature_labels[name]));
      features.appendChild(label);
    }
    $("csv-limits").textContent = `${options.max_csv_bytes / 1e6} MB and ${options.max_csv_rows.toLocaleString("en")} rows`;

    for (const el of document.querySelectorAll("[data-setting]")) {
      const key = el.dataset.setting;
      // a slider's own range where the page narrows it (noise), else the validated bounds
      const range = (options.sliders || {})[key] || (el.type === "number" && options.bounds[key]);
      if (range && range[0] !== null) el.min = String(range[0]);
      if (range && range[1] !== null) el.max = String(range[1]);
      el.addEventListener("change", () => change(key, readControl(el, key)));
      if (el.type === "range") el.addEventListener("input", () => showRangeValue(el));
    }
    $("play").addEventListener("click", () => send({ type: frame && frame.playing ? "pause" : "play" }));
    $("step").addEventListener("click", () => send({ type: "step" }));
    $("reset").addEventListener("click", () => send({ type: "reset" }));
    $("regenerate").addEventListener("click", () => change("data_seed", Math.floor(Math.random() * 1e9)));
    $("add-layer").addEventListener("click", () => {
      const hidden = shown().hidden;
      if (hidden.length < options.max_layers) change("hidden", [...hidden, NEW_LAYER_WIDTH]);
    });
    $("remove-layer").addEventListener("click", () => {
      if (shown().hidden.length > 0) change("hidden", shown().hidden.slice(0, -1));
    });
    $("show_test").addEventListener("change", (e) => {
      showTest = e.target.checked;
      writeHash();
      scheduleDraw();
    });
    $("show_disagreement").addEventListener("change", (e) => {
      showDisagreement = e.target.checked;
      writeHash();
      scheduleDraw();
    });
    $("discretize").addEventListener("change", (e) => {
      discretize = e.target.checked;
      writeHash();
      scheduleDraw();
    });
    for (const id of ["loss-chart", "accuracy-chart", "grad-chart"]) {
      $(id).addEventListener("mousemove", chartTooltip);
      $(id).addEventListener("mouseleave", () => { $("chart-tooltip").hidden = true; });
    }
    $("csv-file").addEventListener("change", onUpload);
    $("warp-layer").addEventListener("change", (e) => {
      warp = Number(e.target.value);
      writeHash();
      sendView();
      scheduleDraw();
    });
    if ("IntersectionObserver" in window) {  // maps scrolled out of view are not computed
      new IntersectionObserver((entries) => {
        const seen = entries[entries.length - 1].isIntersecting;
        if (seen !== neuronsSeen) { neuronsSeen = seen; sendView(); }
      }).observe($("network"));
    }
    document.addEventListener("visibilitychange", sendView);
    $("compare-toggle").addEventListener("click", () => {
      // on: B starts as a copy of A (change one thing); off: back to A alone
      send({ type: "compare", settings: compare ? null : Object.assign({}, accepted || settings) });
    });
    for (const id of ["edit-a", "edit-b"]) {
      $(id).addEventListener("change", (e) => {
        editing = e.target.value;
        syncControls();
        showCompare();
      });
    }
    $("message-close").addEventListener("click", hideMessage);
    $("copy-link").addEventListener("click", copyLink);
    $("export-command").addEventListener("click", () => { pendingExport = "command"; send({ type: "export" }); });
    $("export-json").addEventListener("click", () => { pendingExport = "json"; send({ type: "export" }); });
    $("export-weights").addEventListener("click", () => send({ type: "weights" }));
    const canvas = $("network");
    canvas.addEventListener("mousemove", networkTooltip);
    canvas.addEventListener("click", editWeight);
    $("boundary").addEventListener("click", addPoint);
    // where link (layer, out, in) crosses its middle, in the canvas's CSS pixels (tests click it)
    canvas.linkMidpoint = (l, o, i) => {
      const [xa, ya] = layout.pos[l][i];
      const [xb, yb] = layout.pos[l + 1][o];
      return [(xa + xb) / 2, (ya + yb) / 2];
    };
    canvas.addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
  }

  // the settings the controls show: A's, or B's while the controls change B
  function shown() { return editing === "b" && compare ? compare : settings; }

  function change(key, value) {
    if (editing === "b" && compare && !SHARED.includes(key)) {
      compare[key] = value;
      syncControls();
      return send({ type: "compare", settings: Object.assign({}, compare) });
    }
    settings[key] = value;  // shared settings are A's: B follows them
    syncControls();
    configure();
  }

  function readControl(el, key) {
    if (el.type === "checkbox") return el.checked;
    const defaults = options.defaults;
    if (typeof defaults[key] === "number") return toNumber(el.value);
    return el.value;
  }

  function syncControls() {
    const settings = shown();
    for (const el of document.querySelectorAll("[data-setting]")) {
      const value = settings[el.dataset.setting];
      if (el.type === "checkbox") el.checked = value === true;
      else if (el.tagName === "SELECT") selectValue(el, value);
      else if (el.type === "range") rangeValue(el, value);
      else el.value = String(value);
      if (el.type === "range") showRangeValue(el);
    }
    for (const b of $("datasets").children) {
      const on = b.dataset.dataset === settings.dataset;
      b.setAttribute("aria-checked", String(on));
      if (b.dataset.dataset === "csv") b.textContent = uploadName && on ? uploadName : "your CSV";
    }
    const generated = settings.dataset !== "csv";
    for (const id of ["noise", "n_samples", "regenerate"]) $(id).disabled = !generated;
    const on = new Set(Array.isArray(settings.features) ? settings.features : []);
    for (const box of $("features").querySelectorAll("input")) box.checked = on.has(box.dataset.feature);
    $("show_test").checked = showTest;
    $("show_disagreement").checked = showDisagreement;
    $("discretize").checked = discretize;
    const layers = ready ? ready.layers.length - 2 : (Array.isArray(settings.hidden) ? settings.hidden.length : 0);
    if (warp > layers) warp = layers;
    fillSelect($("warp-layer"), [[0, "off"], ...Array.from({ length: layers }, (_, i) => [i + 1, `layer ${i + 1}`])]);
    $("warp-layer").value = String(warp);
    const hidden = Array.isArray(settings.hidden) ? settings.hidden : [];
    $("layers-label").textContent = `${hidden.length} hidden layer${hidden.length === 1 ? "" : "s"}`;
    $("add-layer").disabled = hidden.length >= options.max_layers;
    $("remove-layer").disabled = hidden.length === 0;
    buildLayerControls(hidden);
  }

  function buildLayerControls(hidden) {
    const box = $("layer-controls");
    box.replaceChildren();
    box.style.gridTemplateColumns = `repeat(${hidden.length + 2}, 1fr)`;
    const cell = (text) => {
      const col = document.createElement("div");
      col.className = "col";
      const label = document.createElement("span");
      label.textContent = text;
      col.appendChild(label);
      box.appendChild(col);
      return col;
    };
    const inputs = Array.isArray(settings.features) ? settings.features.length : 2;
    cell(`${inputs} input${inputs === 1 ? "" : "s"}`);
    hidden.forEach((width, i) => {
      const col = cell(`${width} neuron${width === 1 ? "" : "s"}`);
      const pm = document.createElement("div");
      pm.className = "pm";
      for (const [sign, delta] of [["\u2212", -1], ["+", 1]]) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "round small";
        b.textContent = sign;
        b.setAttribute("aria-label", `${delta > 0 ? "Add a neuron to" : "Remove a neuron from"} layer ${i + 1}`);
        const next = width + delta;
        b.disabled = next < 1 || next > options.max_neurons;
        b.addEventListener("click", () => {
          const h = [...shown().hidden];
          h[i] = next;
          change("hidden", h);
        });
        pm.appendChild(b);
      }
      col.prepend(pm);
    });
    cell("output");
  }

  function updateButtons() {
    const live = ws && ws.readyState === WebSocket.OPEN && ready !== null;
    const playing = Boolean(frame && frame.playing);
    const play = $("play");
    play.classList.toggle("playing", playing);
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
    for (const id of ["play", "step", "reset", "export-command", "export-json", "export-weights"]) {
      $(id).disabled = !live;
    }
    if (frame && frame.done) $("play").disabled = $("step").disabled = true;
  }

  async function onUpload(event) {
    const file = event.target.files[0];
    event.target.value = "";  // choosing the same file again still fires 'change'
    if (!file) return;
    if (file.size > options.max_csv_bytes) {
      return showMessage(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the playground takes CSV files up to ${options.max_csv_bytes / 1e6} MB.`);
    }
    const text = await file.text();
    uploadName = file.name;
    settings.dataset = "csv";
    syncControls();
    configure({ name: file.name, text });
  }

  // ---- the URL holds the whole setup ----------------------------------------------------
  function readHash() {
    const s = Object.assign({}, options.defaults);
    const params = new URLSearchParams(location.hash.slice(1));
    const b = {};
    for (const [name, raw] of params) {
      if (name.startsWith("b.") && name.slice(2) in s) {  // the compared setup's own values
        b[name.slice(2)] = parseValue(name.slice(2), raw);
        continue;
      }
      if (name === "show_test") showTest = raw !== "false";
      if (name === "show_disagreement") showDisagreement = raw === "true";
      if (name === "discretize") discretize = raw === "true";
      if (name === "warp") warp = Math.max(0, Math.floor(Number(raw)) || 0);
      const [key, translate] = RENAMED[name] || [name, (v) => v];
      if (!(key in s) || (key !== name && params.has(key))) continue;  // the new name wins
      s[key] = typeof options.defaults[key] === "number" ? translate(toNumber(raw)) : parseValue(key, raw);
    }
    compareWanted = params.get("compare") === "true" ? Object.assign({}, s, b) : null;
    return s;
  }

  function parseValue(key, raw) {
    const d = options.defaults[key];
    if (Array.isArray(d)) return raw === "" ? [] : raw.split(",").map(key === "hidden" ? toNumber : (v) => v);
    if (typeof d === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
    if (typeof d === "number") return toNumber(raw);
    return raw;
  }

  function writeHash() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(accepted || settings)) {
      params.set(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    if (acceptedCompare) {  // B: only where it differs from A
      params.set("compare", "true");
      const a = accepted || settings;
      for (const [key, value] of Object.entries(acceptedCompare)) {
        if (String(value) !== String(a[key])) params.set("b." + key, Array.isArray(value) ? value.join(",") : String(value));
      }
    }
    params.set("show_test", String(showTest));
    params.set("show_disagreement", String(showDisagreement));
    params.set("discretize", String(discretize));
    if (warp) params.set("warp", String(warp));
    history.replaceState(null, "", "#" + params.toString());
    $("link").value = location.href;
  }

  // ---- drawing --------------------------------------------------------------------------
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {  // only the newest frame is drawn, once per screen refresh
      drawPending = false;
      draw();
    });
  }

  function draw() {
    if (!ready) return;
    const f = frame;
    $("epoch").textContent = formatEpoch(f ? f.epoch : 0);
    $("speed").textContent = f ? String(Math.round(f.epochs_per_second)) : "0";
    const c = f ? f.curves : null;
    const last = (name) => (c && c[name].length ? c[name][c[name].length - 1] : null);
    $("test-loss").textContent = loss(last("test_loss"));
    $("train-loss").textContent = loss(last("train_loss"));
    const score = ready.data.task === "regression" ? r2 : percent;  // R² or accuracy
    $("test-accuracy").textContent = score(last("test_accuracy"));
    $("train-accuracy").textContent = score(last("train_accuracy"));
    const ci = f ? f.accuracy_ci : null;
    $("test-accuracy-ci").textContent = !ci || ci.mean === null ? "\u2013"
      : ci.n > 1 ? `${score(ci.mean)} (${score(ci.lo)} to ${score(ci.hi)}), ${ci.n} seeds`
      : `${score(ci.mean)}, one seed: no interval`;
    drawBoundary(f, $("boundary"));
    if (f && f.compare) drawCompare(f);
    drawMembers(f);
    if (!f || f.maps) drawNetwork(f);  // a frame without maps: they were off screen
    drawWarp(f);
    if (c) drawCharts(c);
  }

  function setupCanvas(canvas, height) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const h = height || canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(h * ratio);
    }
    if (height) canvas.style.height = `${height}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, h);
    return [ctx, width, h];
  }

  function drawBoundary(f, canvas) {
    const [ctx, w, h] = setupCanvas(canvas);
    const data = ready.data;
    if (f) {
      const r = ready.boundary_resolution;
      const bytes = decode(f.boundary);
      const k = bytes.length / (r * r);
      const image = new ImageData(r, r);
      const split = showDisagreement && f.ensemble.disagreement ? decode(f.ensemble.disagreement) : null;
      for (let i = 0; i < r * r; i++) {
        let rgb;
        if (split) rgb = mix(WHITE, [204, 121, 167], split[i] / 255);  // purple: seeds disagree
        else if (k === 1 && discretize) rgb = diverging(bytes[i] >= 128 ? 1 : -1, BACKGROUND);
        else if (k === 1) rgb = diverging(bytes[i] / 127.5 - 1, BACKGROUND);
        else {
          let best = 0;
          for (let j = 1; j < k; j++) if (bytes[j * r * r + i] > bytes[best * r * r + i]) best = j;
          const p = discretize ? 1 : bytes[best * r * r + i] / 255;
          rgb = mix(WHITE, CLASS_RGB[best % CLASS_RGB.length], BACKGROUND * Math.max(0, (p - 1 / k) / (1 - 1 / k)));
        }
        image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
      }
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(toCanvas(image), 0, 0, w, h);
    }
    const [x0, x1, y0, y1] = data.extent;
    const px = (x) => ((x - x0) / (x1 - x0)) * w;
    const py = (y) => ((y1 - y) / (y1 - y0)) * h;
    const n = data.train.y.length + data.test.y.length;
    const radius = n > 4000 ? 1.8 : n > 1500 ? 2.5 : 3.2;
    const color = valueColor(data);
    const dots = (set, stroke) => {
      for (let i = 0; i < set.y.length; i++) {
        ctx.beginPath();
        ctx.arc(px(set.x[2 * i]), py(set.x[2 * i + 1]), radius, 0, 2 * Math.PI);
        ctx.fillStyle = color(set.y[i]);
        ctx.fill();
        ctx.lineWidth = 1;
        ctx.strokeStyle = stroke;
        ctx.stroke();
      }
    };
    dots(data.train, "#ffffff");
    if (showTest) dots(data.test, "#111111");
    ctx.fillStyle = "rgba(0,0,0,0.55)";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(data.axes[0] || "x1", w - 28, h - 6);
    ctx.save();
    ctx.translate(12, 30);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(data.axes[1] || "x2", -20, 0);
    ctx.restore();
  }

  // B's column: its numbers, its boundary (its members' mean), and the paired difference
  function showCompare() {
    const on = Boolean(compare);
    document.body.classList.toggle("comparing", on);
    $("compare-panel").hidden = !on;
    $("compare-toggle").textContent = on ? "Stop comparing" : "Compare";
    $("compare-toggle").classList.toggle("on", on);
    $("edit-a").checked = editing === "a";
    $("edit-b").checked = editing === "b";
    $("network-title").textContent = on ? `Network${editing === "b" ? ": the controls change B (the neurons drawn are A's)" : ": A"}` : "Network";
    if (!on) return;
    const a = accepted || settings;
    const changed = Object.keys(acceptedCompare || {}).filter((k) => String(acceptedCompare[k]) !== String(a[k]));
    $("compare-diff").textContent = changed.length
      ? "B differs from A in " + changed.map((k) => `${k} = ${shownValue(acceptedCompare[k])} (A: ${shownValue(a[k])})`).join(", ")
      : "B is a copy of A: pick \u201cB\u201d above and change one thing.";
  }

  function shownValue(v) { return Array.isArray(v) && v.length === 0 ? "none" : String(v); }

  function drawCompare(f) {
    const b = f.compare;
    const regression = ready.data.task === "regression";
    const score = regression ? r2 : percent;
    const name = regression ? "R\u00B2" : "accuracy";
    const last = (k) => (b.curves[k].length ? b.curves[k][b.curves[k].length - 1] : null);
    $("b-test-loss").textContent = loss(last("test_loss"));
    $("b-test-accuracy-label").textContent = `B test ${name}`;
    $("b-test-accuracy").textContent = score(last("test_accuracy"));
    const ci = b.accuracy_ci;
    $("b-test-accuracy-ci").textContent = ci.mean === null ? "\u2013"
      : ci.n > 1 ? `${score(ci.mean)} (${score(ci.lo)} to ${score(ci.hi)})` : score(ci.mean);
    const d = f.difference;
    $("difference-label").textContent = `Test ${name}, B \u2212 A, paired over ${d.n} seed${d.n === 1 ? "" : "s"}`;
    const signed = (v) => (v > 0 ? "+" : "") + (regression ? v.toFixed(3) : `${(100 * v).toFixed(1)} pts`);
    $("difference").textContent = d.mean === null ? "\u2013"
      : d.n > 1 ? `${signed(d.mean)} (95% CI ${signed(d.lo)} to ${signed(d.hi)})`
      : `${signed(d.mean)}, one seed: no interval`;
    drawBoundary(b, $("boundary-b"));
  }

  // ConvNetJS's layer view: the plane's grid lines and the training points, as the chosen
  // hidden layer sees them (its top two principal components)
  function drawWarp(f) {
    const canvas = $("warp");
    const w = f && f.warp;
    canvas.hidden = $("warp-title").hidden = !w;
    if (!w) return;
    const [ctx, width, height] = setupCanvas(canvas);
    const lines = decodeFloat32(w.lines), points = decodeFloat32(w.points);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const a of [lines, points]) for (let i = 0; i < a.length; i += 2) {
      x0 = Math.min(x0, a[i]); x1 = Math.max(x1, a[i]);
      y0 = Math.min(y0, a[i + 1]); y1 = Math.max(y1, a[i + 1]);
    }
    const span = Math.max(x1 - x0, y1 - y0, 1e-9) * 1.08;  // one scale for both axes
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const X = (v) => width / 2 + ((v - cx) / span) * width, Y = (v) => height / 2 - ((v - cy) / span) * height;
    ctx.strokeStyle = "rgba(80,80,80,0.45)";
    ctx.lineWidth = 1;
    for (let l = 0; l < w.n_lines; l++) {
      ctx.beginPath();
      for (let p = 0; p < w.n_points; p++) {
        const i = 2 * (l * w.n_points + p);
        if (p === 0) ctx.moveTo(X(lines[i]), Y(lines[i + 1])); else ctx.lineTo(X(lines[i]), Y(lines[i + 1]));
      }
      ctx.stroke();
    }
    const color = valueColor(ready.data);
    const labels = ready.data.train.y;
    for (let k = 0; k < points.length / 2; k++) {
      ctx.beginPath();
      ctx.arc(X(points[2 * k]), Y(points[2 * k + 1]), 2.2, 0, 2 * Math.PI);
      ctx.fillStyle = color(labels[k * w.stride]);
      ctx.fill();
    }
    $("warp-title").textContent = `Layer ${w.layer} seen in 2-D: its top two principal components keep ${(100 * w.explained).toFixed(0)}% of its variance. Grid lines: the input plane's.`;
  }

  // a point's colour: its class's, or for a regression its value on the orange-blue scale
  function valueColor(data) {
    if (data.task !== "regression") return (y) => CLASS_COLORS[y % CLASS_COLORS.length];
    const [low, high] = data.value_range;
    return (y) => {
      const rgb = diverging(Math.max(-1, Math.min(1, (2 * (y - low)) / (high - low) - 1)), 1);
      return `rgb(${Math.round(rgb[0])},${Math.round(rgb[1])},${Math.round(rgb[2])})`;
    };
  }

  // every member's decision boundary, small: one seed's picture is one draw among many
  function drawMembers(f) {
    const box = $("members");
    const n = f ? f.ensemble.n_members : 0;
    if (n <= 1) { box.replaceChildren(); box.hidden = true; return; }
    box.hidden = false;
    while (box.children.length > n) box.lastChild.remove();
    while (box.children.length < n) {
      const c = document.createElement("canvas");
      const m = box.children.length;
      c.addEventListener("click", () => send({ type: "select", member: m }));
      box.appendChild(c);
    }
    const r = ready.member_resolution;
    const regression = ready.data.task === "regression";
    const bytes = decode(f.ensemble.members);
    for (let m = 0; m < n; m++) {
      const c = box.children[m];
      c.width = c.height = r;
      c.title = `seed ${ready.seeds[m]}${m === f.member ? " (its neurons are shown)" : ""}`;
      c.classList.toggle("selected", m === f.member);
      const image = new ImageData(r, r);
      for (let i = 0; i < r * r; i++) {
        const v = bytes[m * r * r + i];
        const rgb = v === 255 ? [200, 200, 200]  // diverged: no answer
          : regression ? diverging(v / 127.5 - 1, BACKGROUND)
          : mix(WHITE, CLASS_RGB[v % CLASS_RGB.length], BACKGROUND);
        image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
      }
      c.getContext("2d").putImageData(image, 0, 0);
    }
  }

  function describeData() {
    const d = ready.data;
    const nTrain = d.train.y.length;
    const nTest = d.test.y.length;
    const regression = d.task === "regression";
    const kind = regression ? `regression of ${d.target}` : `${d.task}, ${d.classes.length} classes`;
    const parts = [`${d.name}: ${kind}`, `${nTrain} training / ${nTest} test points`];
    if (d.standardised) parts.push(`inputs ${d.axes.join(", ")} standardised on the training split`);
    if (d.features.join() !== d.axes.join()) parts.push(`the network sees ${d.features.join(", ")}`);
    if (ready.added) parts.push(`${ready.added} point${ready.added === 1 ? "" : "s"} added by clicking`);
    $("data-info").textContent = parts.join(" \u00B7 ");
    const legend = $("class-legend");
    legend.replaceChildren();
    if (regression) {  // the colour scale's ends
      const [low, high] = d.value_range;
      legend.textContent = `orange: ${Number(low.toPrecision(3))} · white: middle · blue: ${Number(high.toPrecision(3))}`;
    }
    for (const [id, name] of [["test-accuracy", "Test"], ["train-accuracy", "Training"]]) {
      $(id).previousElementSibling.textContent = `${name} ${regression ? "R²" : "accuracy"}`;
    }
    $("test-accuracy-ci").previousElementSibling.textContent = `Test ${regression ? "R²" : "accuracy"} over seeds, 95% CI`;
    d.classes.forEach((name, i) => {
      const key = document.createElement("span");
      key.className = "class-key";
      const dot = document.createElement("i");
      dot.style.background = CLASS_COLORS[i % CLASS_COLORS.length];
      key.append(dot, document.createTextNode(/^\d+$/.test(name) ? `class ${name}` : name));
      legend.appendChild(key);
    });
  }

  // the network as in TensorFlow Playground: columns of neurons, each showing its response map
  let layout = null;

  function drawNetwork(f) {
    const widths = ready.layers;
    const canvas = $("network");
    const most = Math.max(...widths);
    const available = Math.max(280, Math.min(560, window.innerHeight - 330));
    const node = Math.max(10, Math.min(40, Math.floor(available / most) - 6));
    const gap = Math.max(3, Math.round(node / 4));
    const height = Math.max(260, most * (node + gap) + 24);
    const [ctx, w] = setupCanvas(canvas, height);
    const columns = widths.length;
    const pos = widths.map((n, l) => {
      const x = ((l + 0.5) / columns) * w;
      const top = (height - n * (node + gap) + gap) / 2;
      return Array.from({ length: n }, (_, i) => [x, top + i * (node + gap) + node / 2]);
    });
    layout = { pos, node, widths, scales: f ? f.scales : null };
    if (f) {
      const weights = f.weights.map(decodeFloat32);
      let peak = 1e-9;
      for (const W of weights) for (const v of W) peak = Math.max(peak, Math.abs(v));
      for (let l = 0; l < weights.length; l++) {
        const W = weights[l];
        const nIn = widths[l];
        const density = Math.min(1, 16 / Math.sqrt(nIn * widths[l + 1]));
        for (let o = 0; o < widths[l + 1]; o++) {
          for (let i = 0; i < nIn; i++) {
            const v = W[o * nIn + i];
            const m = Math.abs(v) / peak;
            if (m < 0.01) continue;
            const [xa, ya] = pos[l][i];
            const [xb, yb] = pos[l + 1][o];
            const k = Math.max(density, m);  // many links: weak ones fade, strong ones stay
            ctx.strokeStyle = rgba(v >= 0 ? BLUE : ORANGE, (0.2 + 0.7 * m) * k);
            ctx.lineWidth = 0.4 + 4 * m * k;
            ctx.beginPath();
            ctx.moveTo(xa + node / 2, ya);
            ctx.bezierCurveTo((xa + xb) / 2, ya, (xa + xb) / 2, yb, xb - node / 2, yb);
            ctx.stroke();
          }
        }
      }
      const r = ready.neuron_resolution;
      ctx.imageSmoothingEnabled = true;
      f.maps.forEach((encoded, l) => {
        const bytes = decode(encoded);
        const image = new ImageData(r, r * widths[l]);  // neurons stacked vertically
        for (let i = 0; i < bytes.length; i++) {
          const rgb = diverging(bytes[i] / 127.5 - 1, 1);
          image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
        }
        const sheet = toCanvas(image);
        for (let n = 0; n < widths[l]; n++) {
          const [x, y] = pos[l][n];
          ctx.drawImage(sheet, 0, n * r, r, r, x - node / 2, y - node / 2, node, node);
        }
      });
    }
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    for (const column of pos) for (const [x, y] of column) ctx.strokeRect(x - node / 2, y - node / 2, node, node);
    ctx.fillStyle = "#444";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "right";
    const names = ready.data.features;
    pos[0].forEach(([x, y], i) => ctx.fillText(names[i] || `x${i + 1}`, x - node / 2 - 4, y + 4));
    ctx.textAlign = "left";
  }

  // a link's curve, as drawn: from the right edge of neuron i to the left edge of neuron o
  function linkPoint(l, o, i, t) {
    const [xa, ya] = layout.pos[l][i];
    const [xb, yb] = layout.pos[l + 1][o];
    const p0 = [xa + layout.node / 2, ya], c1 = [(xa + xb) / 2, ya], c2 = [(xa + xb) / 2, yb];
    const p3 = [xb - layout.node / 2, yb];
    const u = 1 - t;
    const at = (k) => u * u * u * p0[k] + 3 * u * u * t * c1[k] + 3 * u * t * t * c2[k] + t * t * t * p3[k];
    return [at(0), at(1)];
  }

  // click the plane to add a training point (ConvNetJS's demo): class 0, or with shift class 1
  function addPoint(event) {
    if (!ready || ready.data.task === "regression") return;
    const rect = event.target.getBoundingClientRect();
    const [x0, x1, y0, y1] = ready.data.extent;
    const x = x0 + ((event.clientX - rect.left) / rect.width) * (x1 - x0);
    const y = y1 - ((event.clientY - rect.top) / rect.height) * (y1 - y0);
    const label = event.shiftKey ? 1 : 0;
    send({ type: "add_point", x: [x, y], label });
  }

  // click a link to set its weight (TensorFlow Playground's edit): the next frame shows it
  function editWeight(event) {
    if (!layout || !frame) return;
    const rect = event.target.getBoundingClientRect();
    const mx = event.clientX - rect.left, my = event.clientY - rect.top;
    let best = null, nearest = 5;  // pixels
    const widths = layout.widths;
    for (let l = 0; l + 1 < widths.length; l++) {
      for (let o = 0; o < widths[l + 1]; o++) {
        for (let i = 0; i < widths[l]; i++) {
          for (let t = 0; t <= 1.0001; t += 0.05) {
            const [x, y] = linkPoint(l, o, i, t);
            const d = Math.hypot(x - mx, y - my);
            if (d < nearest) { nearest = d; best = [l, o, i]; }
          }
        }
      }
    }
    if (!best) return;
    const [l, o, i] = best;
    const current = decodeFloat32(frame.weights[l])[o * widths[l] + i];
    const last = widths.length - 1;
    const from = l === 0 ? `input ${ready.data.features[i] || i + 1}` : `layer ${l}, neuron ${i + 1}`;
    const to = l + 1 === last ? `output ${o + 1}` : `layer ${l + 1}, neuron ${o + 1}`;
    const answer = window.prompt(`Weight from ${from} to ${to} (now ${current.toPrecision(4)}):`, current.toPrecision(4));
    if (answer === null || answer.trim() === "") return;
    const value = Number(answer);
    if (!Number.isFinite(value)) return showMessage(`${answer} is not a number: type a weight such as 0.5.`);
    send({ type: "set_weight", layer: l, out: o, in: i, value });
  }

  function networkTooltip(event) {
    const tip = $("tooltip");
    if (!layout) return;
    const rect = event.target.getBoundingClientRect();
    const mx = event.clientX - rect.left;
    const my = event.clientY - rect.top;
    for (let l = 0; l < layout.pos.length; l++) {
      for (let n = 0; n < layout.pos[l].length; n++) {
        const [x, y] = layout.pos[l][n];
        if (Math.abs(mx - x) <= layout.node / 2 && Math.abs(my - y) <= layout.node / 2) {
          const last = layout.pos.length - 1;
          const name = l === 0 ? `input ${ready.data.features[n] || n + 1}` : l === last ? `output ${n + 1}` : `layer ${l}, neuron ${n + 1}`;
          const peak = layout.scales ? layout.scales[l][n] : null;
          tip.textContent = peak === null ? name : `${name} \u00B7 max |activation| ${peak.toPrecision(3)}`;
          tip.style.left = `${x + layout.node / 2 + 6}px`;
          tip.style.top = `${y - 10}px`;
          tip.hidden = false;
          return;
        }
      }
    }
    tip.hidden = true;
  }

  // hover: the epoch under the pointer and every curve's value there
  function chartTooltip(event) {
    const tip = $("chart-tooltip");
    const c = charts.get(event.target.id);
    if (!c || !c.xs.length) { tip.hidden = true; return; }
    const rect = event.target.getBoundingClientRect();
    const mx = event.clientX - rect.left;
    const target = c.x0 + ((mx - c.left) / (c.w - c.left - c.right)) * (c.x1 - c.x0);
    let best = 0;
    c.xs.forEach((x, i) => { if (Math.abs(x - target) < Math.abs(c.xs[best] - target)) best = i; });
    const show = (v) => (v === null || v === undefined ? "\u2013" : Number(v.toPrecision(4)).toString());
    const parts = c.series.map((s) => `${s.label} ${show(s.y[best])}`);
    tip.textContent = `epoch ${c.xs[best].toLocaleString("en")}: ${parts.join(", ")}`;
    tip.style.left = `${event.target.offsetLeft + Math.min(mx + 10, c.w - 160)}px`;
    tip.style.top = `${event.target.offsetTop + event.clientY - rect.top + 12}px`;
    tip.hidden = false;
  }

  function drawCharts(c) {
    const regression = ready.data.task === "regression";
    const b = frame && frame.compare ? frame.compare.curves : null;  // B, on the same axes
    const A = b ? "A " : "";
    const withB = (series, train, test) => (b ? series.concat([
      { y: b[train], color: "#009e73", label: "B training" },
      { y: b[test], color: "#cc79a7", label: "B test", dash: [5, 3] },
    ]) : series);
    chart($("loss-chart"), regression ? "Loss (mean squared error)" : "Loss (cross-entropy)", c.epoch, withB([
      { y: c.train_loss, color: "#0072b2", label: A + "training" },
      { y: c.test_loss, color: "#d55e00", label: A + "test", dash: [5, 3] },
    ], "train_loss", "test_loss"), {});
    const many = frame && frame.ensemble.n_members > 1;
    const metric = regression ? "R\u00B2 (1 = perfect)" : "Accuracy";
    chart($("accuracy-chart"), many ? `${metric}, mean over seeds; band: 95% CI of test` : metric, c.epoch, withB([
      { y: c.train_accuracy, color: "#0072b2", label: A + "training" },
      { y: c.test_accuracy, color: "#d55e00", label: A + "test", dash: [5, 3],
        band: many ? [c.test_accuracy_lo, c.test_accuracy_hi] : null },
    ], "train_accuracy", "test_accuracy"), regression ? { max: 1, floor: -1 } : { max: 1 });
    const n = c.grad_norms.length;
    chart($("grad-chart"), "Gradient norm per layer, last step of each epoch (log scale)", c.epoch, c.grad_norms.map((y, i) => ({
      y,
      color: rampColor(n === 1 ? 1 : i / (n - 1)),
      label: i === n - 1 ? "output" : `layer ${i + 1}`,
    })), { log: true });
  }

  function chart(canvas, title, xs, series, opts) {
    const [ctx, w, h] = setupCanvas(canvas);
    canvas.setAttribute("aria-label", title);  // what the chart shows, for screen readers too
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.textAlign = "left";
    ctx.fillText(title, 4, 11);
    // legend: one row under the title, wrapping when it runs out of room
    let lx = 4, ly = 25;
    for (const s of series) {
      const width = ctx.measureText(s.label).width + 24;
      if (lx + width > w) { lx = 4; ly += 13; }
      ctx.fillStyle = s.color;
      ctx.fillRect(lx, ly - 5, 12, 3);
      ctx.fillStyle = "#555";
      ctx.fillText(s.label, lx + 15, ly);
      lx += width;
    }
    const left = 42, right = 8, top = ly + 10, bottom = 18;
    const tf = (v) => (opts.log ? Math.log10(v) : v);
    let lo = Infinity, hi = -Infinity;
    for (const s of series) for (const v of s.y) {
      if (v === null || (opts.log && v <= 0)) continue;
      lo = Math.min(lo, tf(v));
      hi = Math.max(hi, tf(v));
    }
    if (!xs.length || !isFinite(lo)) return;
    if (!opts.log) lo = Math.min(lo, 0);
    if (opts.max !== undefined) hi = Math.max(hi, opts.max);
    if (opts.floor !== undefined) lo = Math.max(lo, opts.floor);  // R² far below 0: cut off
    if (hi - lo < 1e-9) hi = lo + 1;
    const x0 = 1, x1 = Math.max(2, xs[xs.length - 1]);
    const X = (x) => left + ((x - x0) / (x1 - x0)) * (w - left - right);
    charts.set(canvas.id, { xs, series, x0, x1, left, right, w, log: opts.log });
    const Y = (v) => top + (1 - (Math.max(tf(v), lo) - lo) / (hi - lo)) * (h - top - bottom);
    ctx.strokeStyle = "#e4e4e4";
    ctx.fillStyle = "#777";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    for (let t = 0; t <= 3; t++) {
      const v = lo + ((hi - lo) * t) / 3;
      const y = top + (1 - t / 3) * (h - top - bottom);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(w - right, y);
      ctx.stroke();
      ctx.fillText(opts.log ? tickLog(v) : Number(v.toPrecision(2)).toString(), left - 4, y + 4);
    }
    ctx.fillText(`epoch ${x1.toLocaleString("en")}`, w - right, h - 4);
    ctx.textAlign = "left";
    ctx.fillText("1", left, h - 4);
    for (const s of series) {
      if (s.band) {  // a shaded interval under the line, where both ends are known
        ctx.fillStyle = rgba(hexToRgb(s.color), 0.18);
        const [low, high] = s.band;
        ctx.beginPath();
        let started = false;
        xs.forEach((x, i) => {
          if (high[i] === null) return;
          if (started) ctx.lineTo(X(x), Y(high[i])); else { ctx.moveTo(X(x), Y(high[i])); started = true; }
        });
        for (let i = xs.length - 1; i >= 0; i--) if (low[i] !== null) ctx.lineTo(X(xs[i]), Y(low[i]));
        ctx.closePath();
        ctx.fill();
      }
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.6;
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let pen = false;
      s.y.forEach((v, i) => {
        if (v === null || (opts.log && v <= 0)) { pen = false; return; }
        const x = X(xs[i]), y = Y(v);
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
      });
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  function tickLog(exponent) {  // 10^-2.3 -> "0.005"; 10^-5.1 -> "8e-6"
    const v = Math.pow(10, exponent);
    return v < 0.001 || v >= 10000 ? v.toExponential(0) : Number(v.toPrecision(1)).toString();
  }

  // ---- export ---------------------------------------------------------------------------
  function showExport(m) {
    const box = $("export-text");
    box.hidden = false;
    if (pendingExport === "json") {
      const text = JSON.stringify(m.config, null, 2);
      box.textContent = text;
      download(new Blob([text], { type: "application/json" }), "whydl-config.json");
    } else {
      box.textContent = `${m.command}\n\n# trains the same network for the ${m.epochs} epochs shown here`;
    }
    pendingExport = null;
  }

  async function copyLink() {
    writeHash();
    const link = $("link");
    link.select();
    try {
      await navigator.clipboard.writeText(location.href);
      $("copy-link").textContent = "Copied";
      setTimeout(() => { $("copy-link").textContent = "Copy link"; }, 1500);
    } catch (e) {
      // no clipboard permission: the link stays selected in the box for Ctrl+C
    }
  }

  function download(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  // ---- small helpers --------------------------------------------------------------------
  function showMessage(text) {
    $("message-text").textContent = text;
    $("message").hidden = false;
  }
  function hideMessage() { $("message").hidden = true; }
  function setState(state) { document.body.dataset.state = state; }

  function fillSelect(select, pairs) {
    select.replaceChildren();
    for (const [value, label] of pairs) select.appendChild(new Option(label, String(value)));
  }
  // a value from a link that the menu lacks gets its own entry, so the setup stays exact
  function selectValue(select, value) {
    const text = String(value);
    if (![...select.options].some((o) => o.value === text)) select.appendChild(new Option(text, text));
    select.value = text;
  }
  // a value from a link beyond the slider's end widens the slider, so the setup stays exact
  function rangeValue(el, value) {
    const v = Number(value);
    if (Number.isFinite(v) && el.max !== "" && v > Number(el.max)) el.max = String(v);
    el.value = String(value);
  }
  function showRangeValue(el) {
    const out = $(`${el.id}-value`);
    if (out) out.textContent = el.id === "test_size" ? `${Math.round(el.value * 100)}%` : el.value;
  }
  function toNumber(text) {
    const t = String(text).trim();
    const v = Number(t);
    return t !== "" && Number.isFinite(v) ? v : text;  // not a number: the server says so
  }
  function optimizerName(v) {
    return { sgd: "SGD", momentum: "SGD + momentum", nesterov: "Nesterov", rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW" }[v] || v;
  }
  function capital(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
  function formatEpoch(n) {
    const s = String(n).padStart(6, "0");
    return s.length > 6 ? Number(n).toLocaleString("en") : `${s.slice(0, 3)},${s.slice(3)}`;
  }
  function loss(v) {
    if (v === null) return "\u2013";
    return v !== 0 && v < 0.01 ? v.toExponential(1) : v.toFixed(3);
  }
  function r2(v) { return v === null ? "\u2013" : v.toFixed(3); }
  function percent(v) { return v === null ? "\u2013" : `${(100 * v).toFixed(1)}%`; }
  function decode(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  // curves arrive as float32 bytes, NaN where an epoch has no value: arrays with null
  function decodeCurves(c) {
    const list = (b64) => Array.from(decodeFloat32(b64), (v) => (Number.isFinite(v) ? v : null));
    const out = {};
    for (const [k, v] of Object.entries(c)) out[k] = k === "grad_norms" ? v.map(list) : list(v);
    return out;
  }
  function decodeFloat32(b64) {
    const bytes = decode(b64);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }
  function toCanvas(image) {
    const c = document.createElement("canvas");
    c.width = image.width;
    c.height = image.height;
    c.getContext("2d").putImageData(image, 0, 0);
    return c;
  }
  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }
  // -1 orange .. 0 white .. +1 blue; `strength` < 1 keeps data points readable on top
  function diverging(v, strength) {
    return v < 0 ? mix(WHITE, ORANGE, -v * strength) : mix(WHITE, BLUE, v * strength);
  }
  function rgba(rgb, a) { return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${a})`; }
  function hexToRgb(hex) {
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }
  // first layers light blue, last layers dark blue: the order of layers reads as shade
  function rampColor(t) {
    const a = [86, 180, 233], b = [0, 40, 90];
    const c = mix(a, b, t);
    return `rgb(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])})`;
  }

  init();
})();
