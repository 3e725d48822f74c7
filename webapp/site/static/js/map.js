// The ideation map: the corpus as a Chart.js scatter plot (vendored, see static/vendor/README.md).
// Titles are fetched on hover from the JSON API and shown with textContent (never as HTML).
(function () {
  "use strict";
  const canvas = document.getElementById("map");
  if (!canvas || !window.Chart) return;
  const label = document.getElementById("map-label");
  const status = document.getElementById("map-status");
  const highlightIds = JSON.parse(document.getElementById("map-highlight").textContent);
  const highlight = new Set(highlightIds);
  const idea = JSON.parse(document.getElementById("map-idea").textContent);  // {x, y} of a report's idea, or null
  const focus = canvas.dataset.focus ? Number(canvas.dataset.focus) : null;  // the paper, when one is shown
  const paperUrl = (id) => canvas.dataset.paperUrl.replace("/0/", "/" + id + "/");
  const apiUrl = (id) => canvas.dataset.apiUrl.replace(/0$/, String(id));
  const titles = new Map();

  function title(id) {
    if (!titles.has(id)) {
      titles.set(id, fetch(apiUrl(id)).then((r) => (r.ok ? r.json() : null)).then((p) => (p ? p.title : "")));
    }
    return titles.get(id);
  }

  function columns(data) {
    const all = [], marked = [];
    for (let i = 0; i < data.ids.length; i++) {
      const point = { x: data.x[i], y: data.y[i], id: data.ids[i] };
      (highlight.has(data.ids[i]) ? marked : all).push(point);
    }
    return { all, marked };
  }

  // A point takes a click as far out as it is drawn when hovered: the hit area grows only once a
  // hover has enlarged the point, so a quick click or a tap on the small point went nowhere.
  const HIT = 4;

  function draw(data) {
    const { all, marked } = columns(data);
    status.textContent = data.ids.length ? `${data.ids.length} papers · index version ${data.version}` +
      (marked.length ? ` · ${marked.length} highlighted` : "") + (idea ? " · ◆ the idea (orange diamond)" : "") : "Nothing to show yet: the corpus is not indexed.";
    canvas.dataset.count = String(data.ids.length);
    const chart = new Chart(canvas, {
      type: "scatter",
      data: { datasets: [
        { label: "highlighted", data: marked, pointRadius: (c) => (c.raw && c.raw.id === focus ? 9 : 5),
          pointHoverRadius: 9, pointHitRadius: HIT, backgroundColor: (c) => (c.raw && c.raw.id === focus ? "#1d232b" : "#d1495b"),
          borderColor: "#fff", borderWidth: 1 },
        { label: "papers", data: all, pointRadius: all.length > 5000 ? 1.2 : 3, pointHoverRadius: 5, pointHitRadius: HIT, backgroundColor: "rgba(36, 86, 166, 0.35)", borderWidth: 0 },
        // order -1: drawn last, so the idea's diamond sits on top of the papers around it
        { label: "the idea", data: idea ? [{ x: idea.x, y: idea.y, id: null }] : [], pointStyle: "rectRot", order: -1,
          pointRadius: 11, pointHoverRadius: 12, borderColor: "#1d232b", borderWidth: 2, backgroundColor: "#f0a202" },
      ] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: { mode: "nearest", intersect: true },
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: padded(data.x), y: padded(data.y) },
        onHover: (event, elements) => hover(chart, event, elements),
        onClick: (event, elements) => {
          const p = elements.length ? point(chart, elements[0]) : null;
          if (p && p.id !== null) window.location = paperUrl(p.id);
        },
      },
    });
    window.ideationMap = chart;  // for the browser tests
    canvas.dispatchEvent(new CustomEvent("map:ready", { detail: chart }));  // the cluster layer (maps/clusters.js)
  }

  function padded(values) {
    // a margin around the points, so none sits half outside the plot
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const pad = Math.max((hi - lo) * 0.03, 1);
    return { display: false, min: lo - pad, max: hi + pad };
  }

  function point(chart, element) {
    return chart.data.datasets[element.datasetIndex].data[element.index];
  }

  function hover(chart, event, elements) {
    canvas.style.cursor = elements.length ? "pointer" : "default";
    if (!elements.length) { label.hidden = true; return; }
    const p = point(chart, elements[0]);
    if (p.id === null) { label.textContent = "Your idea"; label.hidden = false; }
    label.style.left = event.x + 12 + "px";
    label.style.top = event.y + 12 + "px";
    label.dataset.id = String(p.id);
    if (p.id === null) return;
    title(p.id).then((t) => { if (label.dataset.id === String(p.id)) { label.textContent = t; label.hidden = !t; } });
  }

  fetch(canvas.dataset.points).then((r) => r.json()).then(draw)
    .catch(() => { status.textContent = "The map could not be loaded."; });
})();
