// The cluster layer of the map of the field (on the Chart.js map of static/js/map.js): points
// coloured by top-level cluster, cluster labels drawn on the map (sub-clusters once zoomed in),
// zoom and pan by buttons, keys and wheel, and a panel that lists clusters as buttons (the
// keyboard way in) and shows a chosen cluster's years, sub-clusters and papers. Labels and titles
// are paper-derived text: drawn on the canvas or set with textContent, never parsed as HTML.
(function () {
  "use strict";
  const canvas = document.getElementById("map");
  if (!canvas || !window.Chart) return;
  const panel = {
    title: document.getElementById("cluster-title"), about: document.getElementById("cluster-about"),
    years: document.getElementById("cluster-years"), list: document.getElementById("cluster-list"),
    papersTitle: document.getElementById("cluster-papers-title"), papers: document.getElementById("cluster-papers"),
  };
  const PALETTE = ["#2456a6", "#d1495b", "#1f6f43", "#6a3ea1", "#b36b00", "#00798c", "#8f2d56", "#5d6875",
    "#3d8b37", "#c25e00", "#4059ad", "#9c6644"];
  const state = { chart: null, data: null, byId: new Map(), clusterOf: [], selected: null, rects: [], full: null,
    idea: new Set() };
  const paperUrl = (id) => canvas.dataset.paperUrl.replace("/0/", "/" + id + "/");
  const clusterUrl = (id) => canvas.dataset.clusterUrl.replace(/\/0\.json$/, "/" + id + ".json");

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  // -- zoom and pan: the scales' min/max, within the whole map's box -------------------------
  function view() {
    const s = state.chart.scales;
    return { x0: s.x.min, x1: s.x.max, y0: s.y.min, y1: s.y.max };
  }

  function setView(x0, x1, y0, y1) {
    const o = state.chart.options.scales;
    Object.assign(o.x, { min: x0, max: x1 });
    Object.assign(o.y, { min: y0, max: y1 });
    state.chart.update("none");
    canvas.dataset.zoom = zoom().toFixed(2);
  }

  function zoom() {
    const v = view();
    return (state.full.x1 - state.full.x0) / Math.max(v.x1 - v.x0, 1e-9);
  }

  function zoomBy(factor, cx, cy) {
    const v = view();
    const x = cx === undefined ? (v.x0 + v.x1) / 2 : cx, y = cy === undefined ? (v.y0 + v.y1) / 2 : cy;
    const w = Math.min((v.x1 - v.x0) / factor, state.full.x1 - state.full.x0);
    const h = Math.min((v.y1 - v.y0) / factor, state.full.y1 - state.full.y0);
    setView(x - (x - v.x0) / (v.x1 - v.x0) * w, x + (v.x1 - x) / (v.x1 - v.x0) * w,
      y - (y - v.y0) / (v.y1 - v.y0) * h, y + (v.y1 - y) / (v.y1 - v.y0) * h);
  }

  function pan(dx, dy) {
    const v = view(), w = v.x1 - v.x0, h = v.y1 - v.y0;
    setView(v.x0 + dx * w, v.x1 + dx * w, v.y0 + dy * h, v.y1 + dy * h);
  }

  function reset() {
    const f = state.full;
    setView(f.x0, f.x1, f.y0, f.y1);
  }

  // -- labels on the map -------------------------------------------------------------------
  function shownLevel() {
    const deepest = state.data.levels || 1;
    return Math.min(deepest, zoom() >= 2.5 ? 2 : 1) + (zoom() >= 6 && deepest >= 3 ? 1 : 0);
  }

  function drawLabels(chart) {
    if (!state.data || chart !== state.chart) return;
    const ctx = chart.ctx, area = chart.chartArea, level = shownLevel();
    const clusters = state.data.clusters.filter((c) => c.level === level).sort((a, b) => b.size - a.size);
    state.rects = [];
    ctx.save();
    ctx.font = `600 ${level === 1 ? 14 : 12}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (const c of clusters) {
      const px = chart.scales.x.getPixelForValue(c.x), py = chart.scales.y.getPixelForValue(c.y);
      if (px < area.left || px > area.right || py < area.top || py > area.bottom) continue;
      const text = (state.idea.has(c.id) ? "◆ " : "") + c.label;
      const w = ctx.measureText(text).width + 8, h = level === 1 ? 20 : 17;
      // kept inside the plot: a cluster at the map's edge would otherwise show half its label
      const x = Math.min(Math.max(px - w / 2, area.left), area.right - w), y = Math.min(Math.max(py - h / 2, area.top), area.bottom - h);
      const rect = { x, y, w, h, id: c.id };
      if (state.rects.some((r) => r.x < rect.x + rect.w && rect.x < r.x + r.w && r.y < rect.y + rect.h && rect.y < r.y + r.h)) continue;
      state.rects.push(rect);
      ctx.fillStyle = c.id === state.selected ? "rgba(240, 162, 2, 0.95)" : "rgba(255, 255, 255, 0.88)";
      ctx.fillRect(rect.x, rect.y, rect.w, rect.h);
      ctx.strokeStyle = PALETTE[topIndex(c.id) % PALETTE.length];
      ctx.strokeRect(rect.x, rect.y, rect.w, rect.h);
      ctx.fillStyle = "#1d232b";
      ctx.fillText(text, x + w / 2, y + h / 2);
    }
    ctx.restore();
    canvas.dataset.labels = String(state.rects.length);
  }

  function topIndex(id) {
    return Number(String(id).split(".")[0]) - 1;
  }

  function labelAt(event) {
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    return state.rects.find((r) => x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h);
  }

  // -- colours: top-level cluster of each point; a chosen cluster stands out --------------------
  function recolour() {
    const set = state.chart.data.datasets[1];  // "papers" (map.js: 0 highlighted, 1 papers, 2 the idea)
    const chosen = state.selected ? state.byId.get(state.selected) : null;
    const levelOf = chosen ? state.clusterOf[chosen.level - 1] : null;
    const indexInLevel = chosen ? state.data.clusters.filter((c) => c.level === chosen.level).indexOf(chosen) : -1;
    set.backgroundColor = set.data.map((p) => {
      const top = state.clusterOf[0] ? state.clusterOf[0].get(p.id) : undefined;
      const colour = top === undefined ? "#5d6875" : PALETTE[top % PALETTE.length];
      if (!chosen) return colour + "66";
      return levelOf && levelOf.get(p.id) === indexInLevel ? colour + "dd" : "#5d687518";
    });
    state.chart.update("none");
  }

  // -- the panel -----------------------------------------------------------------------------
  function clusterButton(c) {
    const li = el("li");
    const b = el("button", "", "cluster");
    b.type = "button";
    b.dataset.id = c.id;
    if (state.idea.has(c.id)) b.append(el("span", "◆ ", "idea-mark"));
    b.append(c.label);
    b.addEventListener("click", () => select(c.id));
    li.append(b, " ", el("span", `${c.size} · ${c.trend}`, "size"));
    return li;
  }

  function showTop() {
    state.selected = null;
    panel.title.textContent = "Clusters";
    panel.about.textContent = `${state.data.clusters.filter((c) => c.level === 1).length} families of ` +
      `${state.data.clusters.filter((c) => c.level === 1).reduce((n, c) => n + c.size, 0)} papers` +
      ` · index version ${state.data.version}` + (state.data.stale ? ` (version ${state.data.published} is being mapped)` : "");
    panel.years.hidden = true;
    panel.papersTitle.hidden = true;
    panel.papers.replaceChildren();
    panel.list.replaceChildren(...state.data.clusters.filter((c) => c.level === 1).map(clusterButton));
    recolour();
  }

  function years(counts) {
    const entries = Object.entries(counts).map(([y, n]) => [Number(y), n]).sort((a, b) => a[0] - b[0]);
    panel.years.replaceChildren();
    panel.years.hidden = !entries.length;
    if (!entries.length) return;
    const most = Math.max(...entries.map((e) => e[1]));
    for (let y = entries[0][0]; y <= entries[entries.length - 1][0]; y++) {
      const n = (entries.find((e) => e[0] === y) || [y, 0])[1];
      const bar = el("span");
      bar.style.height = `${Math.max(2, (36 * n) / most)}px`;  // CSSOM, allowed by the CSP (no inline style attribute)
      bar.title = `${y}: ${n}`;
      panel.years.append(bar);
    }
  }

  function zoomTo(cluster) {
    const levelMap = state.clusterOf[cluster.level - 1];
    const index = state.data.clusters.filter((c) => c.level === cluster.level).indexOf(cluster);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of state.chart.data.datasets[1].data.concat(state.chart.data.datasets[0].data)) {
      if (levelMap.get(p.id) !== index) continue;
      x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
    }
    if (x0 === Infinity) return;
    const f = state.full, pad = 0.08;
    const w = Math.max(x1 - x0, (f.x1 - f.x0) / 12), h = Math.max(y1 - y0, (f.y1 - f.y0) / 12);
    setView(x0 - w * pad, x0 + w * (1 + pad), y0 - h * pad, y0 + h * (1 + pad));
  }

  function select(id) {
    const c = state.byId.get(id);
    if (!c) return;
    state.selected = id;
    canvas.dataset.selected = id;
    zoomTo(c);
    recolour();
    panel.title.textContent = c.label;
    panel.about.textContent = `${c.size} papers · ${c.trend}` + (state.idea.has(id) ? " · ◆ your idea falls here" : "");
    years(c.years);
    const up = el("li");
    const back = el("button", c.parent ? "↑ parent cluster" : "↑ all clusters", "cluster");
    back.type = "button";
    back.addEventListener("click", () => (c.parent ? select(c.parent) : (showTop(), reset())));
    up.append(back);
    panel.list.replaceChildren(up, ...state.data.clusters.filter((k) => k.parent === id && k.size < c.size).map(clusterButton));
    panel.papers.replaceChildren(el("li", "Loading…"));
    panel.papersTitle.hidden = false;
    fetch(clusterUrl(id)).then((r) => r.json()).then((detail) => {
      if (state.selected !== id) return;
      panel.papers.replaceChildren(...detail.papers.map((p) => {
        const li = el("li");
        const a = el("a", p.title);
        a.href = paperUrl(p.id);
        li.append(a, " ", el("span", p.year ? String(p.year) : "", "muted"));
        return li;
      }));
    }).catch(() => panel.papers.replaceChildren(el("li", "The papers could not be loaded.")));
    const first = panel.list.querySelector("button");
    if (document.activeElement && panel.list.contains(document.activeElement) && first) first.focus();
  }

  // -- wiring ------------------------------------------------------------------------------
  Chart.register({ id: "clusterLabels", afterDatasetsDraw: drawLabels });

  function ready(chart, data) {
    state.chart = chart;
    state.data = data;
    state.idea = new Set(data.idea || []);
    data.clusters.forEach((c) => state.byId.set(c.id, c));
    state.clusterOf = data.members.levels.map((level) => new Map(data.members.ids.map((id, i) => [id, level[i]])));
    state.full = view();
    canvas.dataset.clusters = String(data.clusters.length);
    if (!data.clusters.length) {
      panel.about.textContent = data.building ? "The clusters are being computed; reload in a minute." :
        "No clusters yet: they are computed after the corpus is indexed.";
      return;
    }
    showTop();
    window.fieldMap = state;  // for the browser tests
  }

  canvas.addEventListener("map:ready", (event) => {
    fetch(canvas.dataset.clusters).then((r) => r.json()).then((data) => ready(event.detail, data))
      .catch(() => { panel.about.textContent = "The clusters could not be loaded."; });
  });
  // Capture on the wrapper: a click on a label chooses the cluster before Chart.js sees it as a
  // click on the paper under the label.
  canvas.parentElement.addEventListener("click", (event) => {
    const hit = state.data && labelAt(event);
    if (hit) { event.stopPropagation(); select(hit.id); }
  }, { capture: true });
  canvas.addEventListener("wheel", (event) => {
    if (!state.chart) return;
    event.preventDefault();
    const box = canvas.getBoundingClientRect(), s = state.chart.scales;
    zoomBy(event.deltaY < 0 ? 1.25 : 0.8, s.x.getValueForPixel(event.clientX - box.left), s.y.getValueForPixel(event.clientY - box.top));
  }, { passive: false });
  const KEYS = { "+": () => zoomBy(1.5), "=": () => zoomBy(1.5), "-": () => zoomBy(1 / 1.5), "0": reset,
    ArrowLeft: () => pan(-0.15, 0), ArrowRight: () => pan(0.15, 0), ArrowUp: () => pan(0, 0.15), ArrowDown: () => pan(0, -0.15) };
  canvas.addEventListener("keydown", (event) => {
    if (!state.chart || !KEYS[event.key]) return;
    event.preventDefault();
    KEYS[event.key]();
  });
  document.getElementById("zoom-in").addEventListener("click", () => state.chart && zoomBy(1.5));
  document.getElementById("zoom-out").addEventListener("click", () => state.chart && zoomBy(1 / 1.5));
  document.getElementById("zoom-reset").addEventListener("click", () => state.chart && (reset(), state.selected && showTop()));
})();
